// Package redirections declares the TCP redirections of one Clever Cloud application: a port on the
// *.cleverapps.io proxies and one on a namespace from config (its custom domains' proxies by default),
// a connection string built from `url`, and what the look-up functions see.
package redirections

import (
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/pulumi-clevercloud-tcp/pulumi-clevercloud-tcp/sdk/go/clevercloudtcp"
)

// Program is the Pulumi program: it declares the resources and exports the stack outputs.
func Program(ctx *pulumi.Context) error {
	cfg := config.New(ctx, "")
	appID := cfg.Require("appId")
	namespace := cfg.Get("namespace")
	if namespace == "" {
		namespace = "default"
	}

	cleverapps, err := clevercloudtcp.NewTcpRedirection(ctx, "cleverapps", &clevercloudtcp.TcpRedirectionArgs{
		AppId:     pulumi.String(appID),
		Namespace: pulumi.String("cleverapps"),
	})
	if err != nil {
		return err
	}
	primary, err := clevercloudtcp.NewTcpRedirection(ctx, "primary", &clevercloudtcp.TcpRedirectionArgs{
		AppId:     pulumi.String(appID),
		Namespace: pulumi.String(namespace),
	})
	if err != nil {
		return err
	}

	// The namespaces this app's owner may use, for picking `namespace`.
	namespaces := clevercloudtcp.GetNamespacesOutput(ctx, clevercloudtcp.GetNamespacesOutputArgs{AppId: pulumi.String(appID)})
	// Read once both redirections exist, so it lists them as the API holds them.
	bothMade := pulumi.All(cleverapps.AppId, primary.AppId).ApplyT(func(ids []interface{}) string {
		return ids[0].(string)
	}).(pulumi.StringOutput)
	listed := clevercloudtcp.GetTcpRedirectionsOutput(ctx, clevercloudtcp.GetTcpRedirectionsOutputArgs{AppId: bothMade})

	ctx.Export("cleverappsPort", cleverapps.Port)
	ctx.Export("cleverappsUrl", cleverapps.Url)
	ctx.Export("primaryNamespace", primary.Namespace)
	ctx.Export("primaryPort", primary.Port)
	ctx.Export("primaryUrl", primary.Url)
	// `url` is empty when the app has no domain on that namespace: then there is no string to give.
	ctx.Export("mqttUri", primary.Url.ApplyT(func(url *string) *string {
		if url == nil || *url == "" {
			return nil
		}
		uri := strings.Replace(*url, "tcp:", "mqtt:", 1)
		return &uri
	}).(pulumi.StringPtrOutput))
	ctx.Export("namespaces", namespaces.Namespaces())
	ctx.Export("redirections", listed.Redirections())
	return nil
}
