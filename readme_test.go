package composiohttp_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// moduleDocs returns the module's README and every .go and .md file
// under the module root (the text a user of the module can read), by
// path.
func moduleDocs(t *testing.T) map[string]string {
	t.Helper()
	docs := map[string]string{}
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if ext := filepath.Ext(path); ext != ".go" && ext != ".md" {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		docs[filepath.ToSlash(path)] = string(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if docs["README.md"] == "" {
		t.Fatal("no README.md")
	}
	return docs
}

// The README and the doc comments stand alone: nothing points to a file
// outside the module (a user of the module cannot open it), and every
// relative link of the README and every directory its commands run
// exists in the module.
func TestDocsStandAlone(t *testing.T) {
	t.Parallel()
	docs := moduleDocs(t)
	// A relative path that climbs above the module's root: more "../"
	// than the file is deep (a file in schemes may name the README one
	// level up).
	climb := regexp.MustCompile("(?:^|[\\s(`'\"])((?:\\.\\./)+)[A-Za-z]")
	for path, text := range docs {
		depth := strings.Count(path, "/")
		for i, line := range strings.Split(text, "\n") {
			for _, m := range climb.FindAllStringSubmatch(line, -1) {
				if strings.Count(m[1], "../") > depth {
					t.Errorf("%s:%d points outside the module (%q): %s", path, i+1, m[0], strings.TrimSpace(line))
				}
			}
		}
	}

	readme := docs["README.md"]
	link := regexp.MustCompile(`\]\(([^)#]+)[^)]*\)`)
	for _, m := range link.FindAllStringSubmatch(readme, -1) {
		target := m[1]
		if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
			continue
		}
		if _, err := os.Stat(target); err != nil {
			t.Errorf("README links to %s, which the module does not hold: %v", target, err)
		}
	}
	cmd := regexp.MustCompile(`go (?:run|test|build|doc)[^\n]*?\s(\./[A-Za-z0-9_/.-]*[A-Za-z0-9_])`)
	for _, m := range cmd.FindAllStringSubmatch(readme, -1) {
		dir := strings.TrimSuffix(m[1], "/...")
		if _, err := os.Stat(dir); err != nil {
			t.Errorf("README runs %q on %s, which the module does not hold: %v", strings.TrimSpace(m[0]), dir, err)
		}
	}
}

// The per-account rate limiter of the recommended chain is spelled the
// same in the README, the middleware package doc, its example and the
// production test, and the README's retry budget is the tested one.
func TestDocsChainAgree(t *testing.T) {
	t.Parallel()
	docs := moduleDocs(t)
	re := regexp.MustCompile(`ratelimit\.NewLocal\([^)]*\)`)
	want := ""
	for _, path := range []string{"README.md", "middleware/doc.go", "middleware/example_test.go"} {
		ms := re.FindAllString(docs[path], -1)
		if len(ms) == 0 {
			t.Errorf("%s: no ratelimit.NewLocal", path)
		}
		for _, m := range ms {
			if want == "" {
				want = m
			}
			if m != want {
				t.Errorf("%s uses %s, README uses %s", path, m, want)
			}
		}
	}
	// The README's production setup is the chain the production test
	// runs: the same limiter and the same retry budget.
	budget := regexp.MustCompile(`retry\.Budget\{MinRetries: [0-9]+\}`).FindString(docs["README.md"])
	if budget == "" || !strings.Contains(docs["middleware/production_test.go"], budget) {
		t.Errorf("README's retry budget %q is not the one middleware/production_test.go runs", budget)
	}
	if !strings.Contains(docs["middleware/production_test.go"], want) {
		t.Errorf("middleware/production_test.go does not run %s", want)
	}
	if !strings.Contains(docs["README.md"], "burst") || !strings.Contains(docs["middleware/ratelimit/ratelimit.go"], "# Choosing a rate and a burst") {
		t.Error("README or package ratelimit does not say how to choose a burst")
	}
}

// The README holds what a user of the module looks up there: the error
// table (status, slug, condition, code, retryable), the retry table, the
// note on SDKs that insist on a token, and the built-in toolkit list.
func TestREADMESections(t *testing.T) {
	t.Parallel()
	readme := moduleDocs(t)["README.md"]
	for _, want := range []string{
		"| status | slug | condition | `CodeOf` | retryable |",
		"| status | retried | why |",
		"### SDKs that insist on a token",
		"sdktoken.Placeholder",
		"<!-- toolkits:begin",
		"| `github` | `https://api.github.com` |",
	} {
		if !strings.Contains(readme, want) {
			t.Errorf("README lacks %q", want)
		}
	}
}
