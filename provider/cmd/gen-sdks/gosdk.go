package main

import (
	"fmt"

	gogen "github.com/pulumi/pulumi/pkg/v3/codegen/go"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
	"golang.org/x/mod/modfile"
)

// pulumiGoSDK is the Go SDK the generated module requires: the version of the `pulumi` CLI this
// project builds, instead of the generator's own default.
const (
	pulumiGoSDK        = "github.com/pulumi/pulumi/sdk/v3"
	pulumiGoSDKVersion = "v3.259.0"
)

func generateGo(pkg *schema.Package) (map[string][]byte, error) {
	files, err := gogen.GeneratePackage(tool, pkg, nil)
	if err != nil {
		return nil, err
	}
	raw, ok := files["go.mod"]
	if !ok {
		return nil, fmt.Errorf("no go.mod generated: schema.json needs \"meta\": {\"supportPack\": true}")
	}
	mod, err := modfile.Parse("go.mod", raw, nil)
	if err != nil {
		return nil, err
	}
	if err := mod.AddRequire(pulumiGoSDK, pulumiGoSDKVersion); err != nil {
		return nil, err
	}
	if files["go.mod"], err = mod.Format(); err != nil {
		return nil, err
	}
	return files, nil
}
