// A Go user's inline Automation API program: `program up|destroy APP_ID`, a JSON line out.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/pulumi-clevercloud-tcp/pulumi-clevercloud-tcp/sdk/go/clevercloudtcp"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

func main() {
	command, appID := os.Args[1], os.Args[2]
	ctx := context.Background()
	stack, err := auto.UpsertStackInlineSource(ctx, "dev", "outside-go", func(ctx *pulumi.Context) error {
		for _, namespace := range []string{"cleverapps", "default"} {
			redirection, err := clevercloudtcp.NewTcpRedirection(ctx, namespace, &clevercloudtcp.TcpRedirectionArgs{
				AppId:     pulumi.String(appID),
				Namespace: pulumi.String(namespace),
			})
			if err != nil {
				return err
			}
			ctx.Export(namespace+"Port", redirection.Port)
		}
		return nil
	})
	if err == nil && command == "up" {
		var result auto.UpResult
		if result, err = stack.Up(ctx); err == nil {
			report := map[string]any{}
			for name, output := range result.Outputs {
				report[name] = output.Value
			}
			out, _ := json.Marshal(report)
			fmt.Println(string(out))
		}
	} else if err == nil {
		if _, err = stack.Destroy(ctx); err == nil {
			fmt.Println("{}")
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
