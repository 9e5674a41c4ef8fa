package composiohttp_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/middleware"
	"github.com/composiohttp/composiohttp/middleware/logging"
	"github.com/composiohttp/composiohttp/middleware/otelproxy"
)

// echoProxy answers every call with a proxy error that quotes text.
type echoProxy struct {
	status int
	body   string
	header http.Header
}

func (p echoProxy) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	h := http.Header{"Content-Type": {"application/json"}}
	for k, v := range p.header {
		h[k] = v
	}
	return &http.Response{StatusCode: p.status, Header: h, Body: io.NopCloser(strings.NewReader(p.body)), Request: r}, nil
}

// TestProxyErrorEchoRedacted: a proxy error that quotes the API key, a
// secret of BaseURL (its password, a secret query value) or a secret of
// the connection sent (in message, errors[], request_id,
// suggested_fix, or the X-Request-Id header) shows neither in Error(),
// in the fields of *Error, in the logging middleware's error attribute
// nor in the span's status.
func TestProxyErrorEchoRedacted(t *testing.T) {
	t.Parallel()
	const key = "ak_ECHO_key_123456"
	const tok = "gho_ECHO_token_abcdef"
	const pass = "ECHO_password_42"
	const basePass, baseTok = "ECHO_basepass_77", "ECHO_basetok_99" // BaseURL's password and secret query value
	conn := &credentials.Connection{AuthScheme: credentials.Basic, ToolkitSlug: "jira",
		Val: credentials.Val{Username: "alice", Password: pass, AccessToken: tok, BaseURL: "https://acme.atlassian.net"}}
	secrets := []string{key, tok, pass, basePass, baseTok}
	for _, tt := range []struct {
		name   string
		body   string
		header http.Header
	}{
		{"message", `{"error":{"message":"bad key ` + key + ` for token ` + tok + `","slug":"InvalidAPIKey","status":401}}`, nil},
		{"errors", `{"error":{"message":"invalid","errors":["password ` + pass + ` rejected","token=` + tok + `"],"status":400}}`, nil},
		{"request_id", `{"error":{"message":"x","request_id":"req_` + key + `","status":400}}`, nil},
		{"suggested_fix", `{"error":{"message":"x","suggested_fix":"use ` + tok + ` instead","status":400}}`, nil},
		{"slug", `{"error":{"message":"x","slug":"` + tok + `","status":400}}`, nil},
		{"flat error", `{"error":"key ` + key + ` is revoked"}`, nil},
		{"header request id", `{"error":{"message":"x"}}`, http.Header{"X-Request-Id": {key}}},
		{"base url password", `{"error":{"message":"proxy user svc:` + basePass + ` refused","status":400}}`, nil},
		{"base url query", `{"error":{"message":"x","errors":["api_token=` + baseTok + `"],"status":400}}`, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var logs bytes.Buffer
			sr := tracetest.NewSpanRecorder()
			tp := trace.NewTracerProvider(trace.WithSpanProcessor(sr))
			tr := &composiohttp.Transport{APIKey: key, BaseURL: "https://svc:" + basePass + "@backend.example.com/?api_token=" + baseTok, Connection: conn,
				Base: echoProxy{status: 400, body: tt.body, header: tt.header}}
			client := &http.Client{Transport: middleware.Chain(tr,
				otelproxy.Middleware(otelproxy.WithTracerProvider(tp)),
				logging.Middleware(logging.WithLogger(slog.New(slog.NewJSONHandler(&logs, nil)))),
			)}
			req, _ := http.NewRequestWithContext(context.Background(), "GET", "https://acme.atlassian.net/rest/api/3/myself", nil)
			_, err := client.Do(req)
			var perr *composiohttp.Error
			if !errors.As(err, &perr) {
				t.Fatalf("err = %v, want *composiohttp.Error", err)
			}
			shown := map[string]string{"Error()": err.Error(), "log": logs.String()}
			for i, s := range sr.Ended() {
				shown["span status "+string(rune('0'+i))] = s.Status().Description
			}
			shown["fields"] = strings.Join(append([]string{perr.Message, perr.Slug, perr.RequestID, perr.SuggestedFix}, perr.Errors...), "|")
			for where, text := range shown {
				for _, s := range secrets {
					if strings.Contains(text, s) {
						t.Errorf("%s shows secret %q: %s", where, s, text)
					}
				}
			}
			if !strings.Contains(shown["fields"], credentials.Redacted) {
				t.Errorf("fields = %q, want the echo replaced by %s", shown["fields"], credentials.Redacted)
			}
		})
	}
}
