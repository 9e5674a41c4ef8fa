package otelproxy_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// otelhttpPath is the import path of the otelhttp module the middleware is
// built on.
const otelhttpPath = "go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"

// TestNoDeprecatedOTelHTTPAPI: the middleware uses no identifier that the
// pinned otelhttp (go.mod) marks "Deprecated:" in its doc comments (such
// as WithMetricAttributesFn, replaced by the client Labeler): deprecated
// options are removed in later releases.
func TestNoDeprecatedOTelHTTPAPI(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-f", "{{.Dir}}", otelhttpPath).Output()
	if err != nil {
		t.Fatalf("go list %s: %v", otelhttpPath, err)
	}
	deprecated := deprecatedNames(t, strings.TrimSpace(string(out)))
	if len(deprecated) == 0 {
		t.Fatalf("no deprecated identifier found in %s: the scan is broken", otelhttpPath)
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue // tests may compare with otelhttp's own options
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		local := ""
		for _, imp := range f.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); p == otelhttpPath {
				local = "otelhttp"
				if imp.Name != nil {
					local = imp.Name.Name
				}
			}
		}
		if local == "" {
			continue
		}
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if id, ok := sel.X.(*ast.Ident); ok && id.Name == local && deprecated[sel.Sel.Name] {
				t.Errorf("%s: uses otelhttp.%s, which is deprecated", fset.Position(sel.Pos()), sel.Sel.Name)
			}
			return true
		})
	}
}

// deprecatedNames returns the exported functions, types, variables and
// constants of the package in dir whose doc comment has a "Deprecated:"
// paragraph.
func deprecatedNames(t *testing.T, dir string) map[string]bool {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	isDeprecated := func(g *ast.CommentGroup) bool {
		return g != nil && strings.Contains(g.Text(), "Deprecated:")
	}
	out := map[string]bool{}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil && d.Name.IsExported() && isDeprecated(d.Doc) {
					out[d.Name.Name] = true
				}
			case *ast.GenDecl:
				for _, s := range d.Specs {
					switch s := s.(type) {
					case *ast.TypeSpec:
						if s.Name.IsExported() && (isDeprecated(s.Doc) || isDeprecated(d.Doc)) {
							out[s.Name.Name] = true
						}
					case *ast.ValueSpec:
						for _, n := range s.Names {
							if n.IsExported() && (isDeprecated(s.Doc) || isDeprecated(d.Doc)) {
								out[n.Name] = true
							}
						}
					}
				}
			}
		}
	}
	return out
}
