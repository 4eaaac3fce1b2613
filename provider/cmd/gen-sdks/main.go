// Command gen-sdks writes the TypeScript, Go and Python SDKs of schema.json with Pulumi's own code
// generators: the libraries `pulumi package gen-sdk` reaches through language hosts, called directly.
//
//	gen-sdks -schema schema.json -out DIR
//
// writes DIR/nodejs, DIR/go and DIR/python, each replaced as a whole so that a file the
// generators no longer produce does not linger.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/blang/semver"
	"github.com/hashicorp/hcl/v2"
	"github.com/pulumi/pulumi/pkg/v3/codegen/nodejs"
	"github.com/pulumi/pulumi/pkg/v3/codegen/python"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)

// tool is the generator name written into every file's "do not edit" header.
const tool = "gen-sdks"

func main() {
	schemaPath := flag.String("schema", "schema.json", "the package schema")
	outDir := flag.String("out", ".", "folder that receives nodejs/, go/ and python/")
	flag.Parse()
	if err := run(*schemaPath, *outDir); err != nil {
		fmt.Fprintln(os.Stderr, "gen-sdks:", err)
		os.Exit(1)
	}
}

func run(schemaPath, outDir string) error {
	generators := []struct {
		dir      string
		generate func(*schema.Package) (map[string][]byte, error)
	}{
		{"nodejs", func(p *schema.Package) (map[string][]byte, error) {
			return nodejs.GeneratePackage(tool, p, nil, nil, false, noExternalPackages{})
		}},
		{"go", generateGo},
		{"python", func(p *schema.Package) (map[string][]byte, error) {
			return python.GeneratePackage(tool, p, nil, noExternalPackages{})
		}},
	}
	for _, g := range generators {
		// Bound afresh each time: a generator records its language's settings in the package it is given.
		pkg, err := bind(schemaPath)
		if err != nil {
			return err
		}
		files, err := g.generate(pkg)
		if err != nil {
			return fmt.Errorf("%s SDK: %w", g.dir, err)
		}
		if err := writeTree(filepath.Join(outDir, g.dir), files); err != nil {
			return err
		}
	}
	return nil
}

// bind reads and validates the schema; every diagnostic is reported, one line each.
func bind(schemaPath string) (*schema.Package, error) {
	raw, err := os.ReadFile(schemaPath)
	if err != nil {
		return nil, err
	}
	var spec schema.PackageSpec
	if err := json.Unmarshal(raw, &spec); err != nil {
		return nil, fmt.Errorf("%s: %w", schemaPath, err)
	}
	pkg, diags, err := schema.BindSpec(spec, noExternalPackages{}, schema.ValidationOptions{})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", schemaPath, err)
	}
	if diags.HasErrors() {
		return nil, fmt.Errorf("%s is not a valid package schema:\n%s", schemaPath, describe(diags))
	}
	return pkg, nil
}

// describe lists the errors one per line, each once. The metaschema's "doesn't validate" and
// "allOf/oneOf failed" lines are left out: they only repeat, for each enclosing object, what the
// lines naming the field say.
func describe(diags hcl.Diagnostics) string {
	var lines []string
	seen := map[string]bool{}
	for _, d := range diags {
		line := strings.TrimSpace(d.Summary + " " + d.Detail)
		if d.Severity != hcl.DiagError || seen[line] || isSummaryOfOthers(line) {
			continue
		}
		seen[line] = true
		lines = append(lines, "  "+line)
	}
	if len(lines) == 0 {
		return "  " + diags.Error()
	}
	return strings.Join(lines, "\n")
}

func isSummaryOfOthers(line string) bool {
	for _, noise := range []string{"doesn't validate with", "allOf failed", "oneOf failed", "anyOf failed"} {
		if strings.Contains(line, noise) {
			return true
		}
	}
	return false
}

// writeTree replaces dir by exactly the given files.
func writeTree(dir string, files map[string][]byte) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, files[name], 0o644); err != nil {
			return err
		}
	}
	return nil
}

// noExternalPackages is the loader for a schema that references no other package: the generators
// only ask it for packages named in `$ref`s to other schemas, and this one has none.
type noExternalPackages struct{}

var errExternal = errors.New("schema.json may not reference other Pulumi packages")

func (noExternalPackages) LoadPackage(string, *semver.Version) (*schema.Package, error) {
	return nil, errExternal
}

func (noExternalPackages) LoadPackageV2(context.Context, *schema.PackageDescriptor) (*schema.Package, error) {
	return nil, errExternal
}

func (noExternalPackages) LoadPackageReference(string, *semver.Version) (schema.PackageReference, error) {
	return nil, errExternal
}

func (noExternalPackages) LoadPackageReferenceV2(
	context.Context, *schema.PackageDescriptor,
) (schema.PackageReference, error) {
	return nil, errExternal
}
