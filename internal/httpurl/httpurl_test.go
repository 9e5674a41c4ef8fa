package httpurl

import (
	"net/url"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestParse(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]bool{
		"https://api.github.com":        true,
		"http://127.0.0.1:8080/x?y=1":   true,
		"HTTPS://Example.com/":          true,
		"":                              false,
		"/relative/path":                false,
		"api.github.com/x":              false,
		"ftp://files.example.com/a":     false,
		"https://":                      false,
		"https:///path":                 false,
		"mailto:someone@example.com":    false,
		"https://bad host/":             false,
		"https://[::1":                  false,
		"javascript:alert(1)//http://x": false,
	} {
		u, ok := Parse(s)
		if ok != want || (u != nil) != want {
			t.Errorf("Parse(%q) = %v, %v; want ok %v", s, u, ok, want)
		}
	}
}

func TestPort(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]string{
		"https://a.test":      "443",
		"HTTP://a.test/x":     "80",
		"https://a.test:8443": "8443",
		"http://a.test:443":   "443",
		"ftp://a.test":        "",
		"ftp://a.test:21":     "21",
	} {
		u, err := url.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := Port(u); got != want {
			t.Errorf("Port(%q) = %q, want %q", s, got, want)
		}
	}
}
