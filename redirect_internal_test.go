package composiohttp

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestSameSite(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"https://api.github.com/x", "https://uploads.github.com/y", true},
		{"https://api.github.com/x", "https://objects.githubusercontent.com/y", false},
		{"https://api.github.com/x", "http://api.github.com/x", false},
		{"https://api.github.com/x", "https://api.github.com:8443/x", false},
		{"https://api.github.com:443/x", "https://api.github.com/x", true},
		{"https://acme.herokuapp.com/", "https://evil.herokuapp.com/", false}, // private suffix: two tenants
		{"https://acme.myshopify.com/", "https://evil.myshopify.com/", false},
		// Not in the public suffix list (x/net's copy): one site, left to the proxy's rule.
		{"https://acme.atlassian.net/", "https://evil.atlassian.net/", true},
		{"https://www.googleapis.com/drive", "https://doc-0s-docs.googleusercontent.com/", false},
		{"https://127.0.0.1:8080/", "https://127.0.0.1:8080/x", true},
		{"https://127.0.0.1:8080/", "https://127.0.0.2:8080/", false},
		{"https://API.GitHub.com./", "https://api.github.com/", true},
	} {
		a, _ := url.Parse(c.a)
		b, _ := url.Parse(c.b)
		if got := sameSite(a, b); got != c.want {
			t.Errorf("sameSite(%s, %s) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

// The remembered Locations are bounded and expire.
func TestRedirectMemory(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	origin, _ := url.Parse("https://api.github.com/repos/o/r/releases/assets/1")
	var m redirectMemory
	for i := range maxRememberedLinks + 10 {
		m.add(fmt.Sprintf("https://objects.githubusercontent.com/%d", i), origin, now)
	}
	if len(m.links) != maxRememberedLinks || len(m.order) != maxRememberedLinks {
		t.Fatalf("%d links, %d in order; want the bound %d", len(m.links), len(m.order), maxRememberedLinks)
	}
	if m.lookup("https://objects.githubusercontent.com/0", now) != nil {
		t.Error("the oldest link was not dropped")
	}
	last := fmt.Sprintf("https://objects.githubusercontent.com/%d", maxRememberedLinks+9)
	if m.lookup(last, now.Add(redirectTTL)) != origin {
		t.Error("a link is forgotten before its TTL")
	}
	if m.lookup(last, now.Add(redirectTTL+time.Second)) != nil {
		t.Error("a link outlives its TTL")
	}
}

// An off-site redirect the Transport refuses (before anything is sent
// through Base) still closes the caller's body, exactly once.
func TestRefusedOffSiteRedirectClosesBody(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, method, target string
		tr                   func(*Transport)
	}{
		{"POST", http.MethodPost, "https://objects.githubusercontent.com/x", nil},
		{"downgrade to http", http.MethodGet, "http://objects.githubusercontent.com/x", nil},
		{"metadata address", http.MethodGet, "https://169.254.169.254/latest", nil},
		{"vetoed", http.MethodGet, "https://objects.githubusercontent.com/x", func(t *Transport) {
			t.AllowDownload = func(*url.URL) error { return errors.New("no") }
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			p := &stubProxy{reply: okReply}
			tr := newTestTransport(p)
			if c.tr != nil {
				c.tr(tr)
			}
			origin, _ := http.NewRequest(http.MethodGet, "https://api.github.com/repos/o/r", nil)
			body := "body"
			if c.method == http.MethodGet {
				body = "" // a GET may carry no bytes, but a Body to close
			}
			cb := &countingBody{r: strings.NewReader(body)}
			req, _ := http.NewRequest(c.method, c.target, nil)
			req.Body, req.ContentLength = cb, int64(len(body))
			req.Response = &http.Response{StatusCode: http.StatusTemporaryRedirect, Request: origin}
			resp, err := tr.RoundTrip(req)
			if !errors.Is(err, ErrRedirectNotAllowed) || resp != nil {
				t.Fatalf("RoundTrip = %v, %v; want ErrRedirectNotAllowed", resp, err)
			}
			if got := cb.closes.Load(); got != 1 {
				t.Errorf("request body closed %d times, want exactly 1", got)
			}
		})
	}
}
