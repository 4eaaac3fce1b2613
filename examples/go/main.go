// The project's program for `pulumi up`; automation/ runs the same one inline.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/pulumi-clevercloud-tcp/pulumi-clevercloud-tcp/examples/go/redirections"
)

func main() {
	pulumi.Run(redirections.Program)
}
