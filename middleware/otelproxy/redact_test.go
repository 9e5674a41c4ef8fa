package otelproxy_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/composiohttp/composiohttp/middleware/otelproxy"
)

// webhookToken matches the token of a Discord webhook URL.
var webhookToken = regexp.MustCompile(`^(/api/webhooks/[^/]+/)[^/]+`)

func hideWebhookToken(u *url.URL) *url.URL {
	u.Path = webhookToken.ReplaceAllString(u.Path, "${1}REDACTED")
	u.RawPath = ""
	return u
}

// Secrets in URL paths are recorded as is by default, and hidden by
// WithURLRedactor, in url.full and url.path; the request sent on keeps
// them.
func TestURLRedactor(t *testing.T) {
	t.Parallel()
	const target = "https://discord.com/api/webhooks/123/SECRET1?wait=true&token=SECRET2"
	for _, redact := range []bool{false, true} {
		t.Run(fmt.Sprint(redact), func(t *testing.T) {
			t.Parallel()
			sr, tp := recorder()
			opts := []otelproxy.Option{otelproxy.WithTracerProvider(tp)}
			if redact {
				opts = append(opts, otelproxy.WithURLRedactor(hideWebhookToken))
			}
			next := &stub{status: 204}
			req, _ := http.NewRequest(http.MethodPost, target, nil)
			if _, err := do(t, otelproxy.New(next, opts...), req); err != nil {
				t.Fatal(err)
			}
			if next.seen.URL.String() != target || req.URL.String() != target {
				t.Errorf("URL sent on %q, caller's %q; want %q", next.seen.URL, req.URL, target)
			}
			spans := sr.Ended()
			if len(spans) != 1 {
				t.Fatalf("%d spans", len(spans))
			}
			a := attrs(spans[0])
			full, path := a["url.full"].AsString(), a[otelproxy.AttrURLPath].AsString()
			if strings.Contains(full, "SECRET2") {
				t.Errorf("query secret in url.full %q", full)
			}
			if got := strings.Contains(full+path, "SECRET1"); got == redact {
				t.Errorf("redactor %v: url.full %q, url.path %q", redact, full, path)
			}
			if redact && (full != "https://discord.com/api/webhooks/123/REDACTED?wait=true&token=[REDACTED]" || path != "/api/webhooks/123/REDACTED") {
				t.Errorf("url.full %q, url.path %q", full, path)
			}
		})
	}
}

// TestURLShownHidesSecrets: by default, what url.full and url.path show
// drops a fragment such as #access_token=... and hides a secret path
// parameter (a Java servlet's session: "/app;jsessionid=…"), other path
// parameters shown; the request sent on keeps its URL, and no attribute
// holds the secret.
func TestURLShownHidesSecrets(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, target, wantFull, wantPath string
	}{
		{"fragment", "https://api.example.com/cb?page=2#access_token=SECRET9",
			"https://api.example.com/cb?page=2", "/cb"},
		{"path parameters", "https://api.example.com/app;jsessionid=SECRET7;lang=en/x;sid=SECRET8?page=2",
			"https://api.example.com/app;jsessionid=[REDACTED];lang=en/x;sid=[REDACTED]?page=2",
			"/app;jsessionid=[REDACTED];lang=en/x;sid=[REDACTED]"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sr, tp := recorder()
			next := &stub{status: 200}
			req, _ := http.NewRequest(http.MethodGet, tt.target, nil)
			if _, err := do(t, otelproxy.New(next, otelproxy.WithTracerProvider(tp)), req); err != nil {
				t.Fatal(err)
			}
			if next.seen.URL.String() != tt.target || req.URL.String() != tt.target {
				t.Errorf("URL sent on %q, caller's %q; want %q", next.seen.URL, req.URL, tt.target)
			}
			spans := sr.Ended()
			if len(spans) != 1 {
				t.Fatalf("%d spans", len(spans))
			}
			a := attrs(spans[0])
			for k, v := range a {
				if strings.Contains(v.String(), "SECRET") {
					t.Errorf("%s = %q", k, v.String())
				}
			}
			full, path := a["url.full"].AsString(), a[otelproxy.AttrURLPath].AsString()
			if full != tt.wantFull || path != tt.wantPath {
				t.Errorf("url.full %q, url.path %q", full, path)
			}
		})
	}
}

// TestContextPrintsNoURL: the context the layers below see prints neither
// the URL nor the CallInfo (as the context package's own nodes print their
// type, not their value).
func TestContextPrintsNoURL(t *testing.T) {
	t.Parallel()
	var printed string
	next := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		printed = fmt.Sprint(r.Context()) + fmt.Sprintf("%v %+v", r.Context(), r.Context())
		return &http.Response{StatusCode: 200, Header: http.Header{}, Body: http.NoBody, Request: r}, nil
	})
	_, tp := recorder()
	req, _ := http.NewRequest(http.MethodGet, "https://api.example.com/x?access_token=tok_secret", nil)
	if _, err := do(t, otelproxy.New(next, otelproxy.WithTracerProvider(tp)), req); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(printed, "tok_secret") || !strings.Contains(printed, "otelproxy call") {
		t.Errorf("context prints %q", printed)
	}
}

// TestQuerySecretsRedacted: url.full shows no secret query value, whether
// parameters are separated by "&" or by ";" (which some servers split
// on) or inside an escaped value; the request sent on keeps its URL.
func TestQuerySecretsRedacted(t *testing.T) {
	t.Parallel()
	tests := []struct{ target, want string }{
		{"https://api.example.com/x?page=2&access_token=SECRET1", "https://api.example.com/x?page=2&access_token=[REDACTED]"},
		{"https://api.example.com/x?a=1;access_token=SECRET2", "https://api.example.com/x?a=1;access_token=[REDACTED]"},
		{"https://api.example.com/x?a=1&b=2;sig=SECRET3;c=3", "https://api.example.com/x?a=1&b=2;sig=[REDACTED];c=3"},
		{"https://api.example.com/x?page=2;per_page=10", "https://api.example.com/x?page=2;per_page=10"},
		// A secret inside an escaped value, read as a parameter by a
		// server that splits after decoding: the value is hidden whole.
		{"https://api.example.com/x?a=x%26token%3dSECRET4&page=2", "https://api.example.com/x?a=[REDACTED]&page=2"},
		{"https://api.example.com/x?q=a%3Db%3Bc%3Dd", "https://api.example.com/x?q=a%3Db%3Bc%3Dd"},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			t.Parallel()
			sr, tp := recorder()
			next := &stub{status: 200}
			req, _ := http.NewRequest(http.MethodGet, tt.target, nil)
			if _, err := do(t, otelproxy.New(next, otelproxy.WithTracerProvider(tp)), req); err != nil {
				t.Fatal(err)
			}
			if next.seen.URL.String() != tt.target {
				t.Errorf("URL sent on %q, want %q", next.seen.URL, tt.target)
			}
			spans := sr.Ended()
			if len(spans) != 1 {
				t.Fatalf("%d spans", len(spans))
			}
			for k, v := range attrs(spans[0]) {
				if strings.Contains(v.String(), "SECRET") {
					t.Errorf("%s = %q", k, v.String())
				}
			}
			if full := attrs(spans[0])["url.full"].AsString(); full != tt.want {
				t.Errorf("url.full = %q, want %q", full, tt.want)
			}
		})
	}
}

// TestErrorStatusRedacted: the span's status description, which otelhttp
// sets to the error's text, shows the URL a *url.Error from below quotes
// as url.full shows it (secret query values hidden, and WithURLRedactor
// applied); the caller still gets the error itself, and error.type names
// its type.
func TestErrorStatusRedacted(t *testing.T) {
	t.Parallel()
	const target = "https://discord.com/api/webhooks/123/SECRET1?wait=true&token=SECRET2"
	for _, tt := range []struct {
		name string
		err  error
		opts []otelproxy.Option
		want string
	}{
		{"url.Error", &url.Error{Op: "Get", URL: target, Err: errors.New("refused")}, nil,
			`Get "https://discord.com/api/webhooks/123/SECRET1?wait=true&token=[REDACTED]": refused`},
		{"wrapped url.Error, redactor", fmt.Errorf("sending: %w", &url.Error{Op: "Get", URL: target, Err: errors.New("refused")}),
			[]otelproxy.Option{otelproxy.WithURLRedactor(hideWebhookToken)},
			`sending: Get "https://discord.com/api/webhooks/123/REDACTED?wait=true&token=[REDACTED]": refused`},
		{"unparsable URL", &url.Error{Op: "Get", URL: "https://h/%zz?token=SECRET3", Err: errors.New("refused")}, nil,
			`Get "[unparsable URL]": refused`},
		{"two url.Errors joined", errors.Join(&url.Error{Op: "Get", URL: "https://a.example/?a=1&token=SECRET4", Err: errors.New("refused")},
			&url.Error{Op: "Post", URL: "https://b.example/?sig=SECRET5", Err: errors.New("reset")}), nil,
			"Get \"https://a.example/?a=1&token=[REDACTED]\": refused\nPost \"https://b.example/?sig=[REDACTED]\": reset"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sr, tp := recorder()
			next := &stub{err: tt.err}
			req, _ := http.NewRequest(http.MethodGet, target, nil)
			_, err := otelproxy.New(next, append(tt.opts, otelproxy.WithTracerProvider(tp))...).RoundTrip(req)
			if err != tt.err {
				t.Errorf("RoundTrip returned %#v, want the error from below", err)
			}
			spans := sr.Ended()
			if len(spans) != 1 {
				t.Fatalf("%d spans", len(spans))
			}
			if got := spans[0].Status().Description; got != tt.want {
				t.Errorf("status description %q, want %q", got, tt.want)
			}
			if got, want := attrs(spans[0])["error.type"].AsString(), semconv.ErrorType(tt.err).Value.AsString(); got != want {
				t.Errorf("error.type %q, want %q (the error's own)", got, want)
			}
		})
	}
}
