// Command automation runs the redirections program as an Automation API inline program, so no Go
// language host is needed:
//
//	go run ./automation up|preview|refresh|destroy -app-id app_… [-namespace NS] [-stack dev]
//	    [-endpoint URL] [-backend URL]
//
// Options fall back to the environment: CLEVERCLOUD_APP_ID, CLEVERCLOUD_NAMESPACE, API_HOST (the API
// endpoint), PULUMI_BACKEND_URL. Credentials are never options: the provider plugin reads them from
// CLEVER_TOKEN/CLEVER_SECRET (or CLEVER_API_TOKEN) or the `clever login` profile. The last stdout line
// is a JSON report: the change summary and, after up or refresh, the stack outputs.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optrefresh"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"

	"github.com/pulumi-clevercloud-tcp/pulumi-clevercloud-tcp/examples/go/redirections"
)

const project = "clevercloud-tcp-go"

var commands = map[string]bool{"up": true, "preview": true, "refresh": true, "destroy": true}

type report struct {
	Changes map[string]int         `json:"changes"`
	Outputs map[string]interface{} `json:"outputs,omitempty"`
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "automation: "+format+"\n", args...)
	os.Exit(2)
}

// cause names what failed: the engine's whole output is already on stderr, so this is the first error
// the engine reported that is not the program's in-flight calls being cut off.
func cause(err error) string {
	var errors []string
	for _, line := range strings.Split(err.Error(), "\n") {
		if line = strings.TrimPrefix(strings.TrimSpace(line), "stderr: "); strings.HasPrefix(line, "error: ") {
			errors = append(errors, strings.TrimPrefix(line, "error: "))
		}
	}
	for _, message := range errors {
		if !strings.HasPrefix(message, "Unhandled exception") && !strings.HasPrefix(message, "an unhandled error occurred") {
			return message
		}
	}
	if len(errors) > 0 {
		return errors[0]
	}
	return strings.SplitN(err.Error(), "\n", 2)[0]
}

func changes(summary *map[string]int) map[string]int {
	if summary == nil {
		return map[string]int{}
	}
	return *summary
}

func outputs(ctx context.Context, stack auto.Stack) (map[string]interface{}, error) {
	found, err := stack.Outputs(ctx)
	values := map[string]interface{}{}
	for name, output := range found {
		values[name] = output.Value
	}
	return values, err
}

func run(ctx context.Context, stack auto.Stack, command string) (report, error) {
	switch command {
	case "preview":
		result, err := stack.Preview(ctx, optpreview.ProgressStreams(os.Stderr), optpreview.Color("never"))
		summary := map[string]int{}
		for op, n := range result.ChangeSummary {
			summary[string(op)] = n
		}
		return report{Changes: summary}, err
	case "destroy":
		result, err := stack.Destroy(ctx, optdestroy.ProgressStreams(os.Stderr), optdestroy.Color("never"))
		return report{Changes: changes(result.Summary.ResourceChanges)}, err
	case "up":
		result, err := stack.Up(ctx, optup.ProgressStreams(os.Stderr), optup.Color("never"))
		if err != nil {
			return report{}, err
		}
		values, err := outputs(ctx, stack)
		return report{Changes: changes(result.Summary.ResourceChanges), Outputs: values}, err
	case "refresh":
		result, err := stack.Refresh(ctx, optrefresh.ProgressStreams(os.Stderr), optrefresh.Color("never"))
		if err != nil {
			return report{}, err
		}
		values, err := outputs(ctx, stack)
		return report{Changes: changes(result.Summary.ResourceChanges), Outputs: values}, err
	}
	panic("unknown command " + command) // main accepts only the commands above
}

func main() {
	if len(os.Args) < 2 {
		fail("expected one command among up, preview, refresh, destroy")
	}
	command := os.Args[1]
	if _, known := commands[command]; !known {
		fail("expected one command among up, preview, refresh, destroy, got %q", command)
	}
	flags := flag.NewFlagSet("automation", flag.ExitOnError)
	appID := flags.String("app-id", os.Getenv("CLEVERCLOUD_APP_ID"), "the application's id, app_<uuid>")
	namespace := flags.String("namespace", os.Getenv("CLEVERCLOUD_NAMESPACE"), "the second redirection's namespace (default: default)")
	stackName := flags.String("stack", "dev", "the stack")
	endpoint := flags.String("endpoint", os.Getenv("API_HOST"), "the Clever Cloud API endpoint")
	backend := flags.String("backend", os.Getenv("PULUMI_BACKEND_URL"), "the Pulumi backend URL")
	_ = flags.Parse(os.Args[2:]) // ExitOnError: a bad flag already ended the program
	if *appID == "" {
		fail("-app-id (or CLEVERCLOUD_APP_ID) is required: the application's id, app_<uuid>")
	}

	ctx := context.Background()
	env := map[string]string{}
	if *backend != "" {
		env["PULUMI_BACKEND_URL"] = *backend
	}
	stack, err := auto.UpsertStackInlineSource(ctx, *stackName, project, redirections.Program, auto.EnvVars(env))
	if err != nil {
		fail("%s", cause(err))
	}
	config := auto.ConfigMap{"appId": {Value: *appID}}
	if *endpoint != "" {
		config["clevercloud-tcp:endpoint"] = auto.ConfigValue{Value: *endpoint}
	}
	if *namespace != "" {
		config["namespace"] = auto.ConfigValue{Value: *namespace}
	} else if err := stack.RemoveConfig(ctx, "namespace"); err != nil {
		fail("%s", cause(err))
	}
	if err := stack.SetAllConfig(ctx, config); err != nil {
		fail("%s", cause(err))
	}
	result, err := run(ctx, stack, command)
	if err != nil {
		fail("%s", cause(err))
	}
	line, err := json.Marshal(result)
	if err != nil {
		fail("%v", err)
	}
	fmt.Println(string(line))
}
