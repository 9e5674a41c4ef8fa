package otelproxy_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/middleware/otelproxy"
	"github.com/composiohttp/composiohttp/testutil"
)

func TestE2ETraceparentAndAttributes(t *testing.T) {
	t.Parallel()
	seen := make(chan http.Header, 1)
	srv := testutil.NewServer(t)
	srv.AddAccount(testutil.Account{ID: "ca_gh", Toolkit: "github", AuthScheme: credentials.OAuth2,
		Val: credentials.Val{AccessToken: "tok_secret"},
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			seen <- r.Header.Clone()
			w.WriteHeader(http.StatusTeapot)
		})})
	sr, tp := recorder()
	rt := otelproxy.New(srv.Transport(), otelproxy.WithTracerProvider(tp), otelproxy.WithPropagators(propagation.TraceContext{}))
	ctx := otelproxy.ContextWithRoute(composiohttp.WithConnectedAccount(context.Background(), "ca_gh"), "/repos/{owner}/{repo}")
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://api.github.com/repos/o/r?access_token=qs_secret", nil)
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()

	h := <-seen
	spans := sr.Ended()
	if len(spans) != 1 {
		t.Fatalf("%d spans", len(spans))
	}
	s := spans[0]
	tp0 := h.Get("Traceparent")
	if tp0 == "" || !strings.Contains(tp0, s.SpanContext().TraceID().String()) || !strings.Contains(tp0, s.SpanContext().SpanID().String()) {
		t.Errorf("upstream traceparent %q, span %s/%s", tp0, s.SpanContext().TraceID(), s.SpanContext().SpanID())
	}
	if s.Name() != "GET /repos/{owner}/{repo}" {
		t.Errorf("span name %q", s.Name())
	}
	a := attrs(s)
	reqID := srv.Requests()[0].RequestID
	for k, want := range map[attribute.Key]attribute.Value{
		otelproxy.AttrConnectedAccount: attribute.StringValue("ca_gh"),
		otelproxy.AttrRequestID:        attribute.StringValue(reqID),
		otelproxy.AttrUpstreamStatus:   attribute.IntValue(http.StatusTeapot),
		otelproxy.AttrCacheHit:         attribute.BoolValue(false),
		"server.address":               attribute.StringValue("api.github.com"),
	} {
		if a[k] != want {
			t.Errorf("%s = %q, want %q", k, a[k].String(), want.String())
		}
	}
	for _, kv := range s.Attributes() {
		if v := kv.Value.String(); strings.Contains(v, "secret") || strings.Contains(v, srv.APIKey) {
			t.Errorf("attribute %s = %q shows a secret", kv.Key, v)
		}
	}
}

func TestE2EProxyErrorSpan(t *testing.T) {
	t.Parallel()
	srv := testutil.NewServer(t)
	srv.AddAccount(testutil.Account{ID: "ca_1", AuthScheme: credentials.OAuth2, Val: credentials.Val{AccessToken: "t"},
		Handler: http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})})
	srv.Inject(testutil.Fault{Status: 429, RetryAfter: "3"})
	sr, tp := recorder()
	tr := srv.Transport()
	tr.ConnectedAccountID = "ca_1"
	req, _ := http.NewRequest(http.MethodGet, "https://api.example.com/", nil)
	if _, err := otelproxy.New(tr, otelproxy.WithTracerProvider(tp)).RoundTrip(req); err == nil {
		t.Fatal("want the proxy error")
	}
	a := attrs(sr.Ended()[0])
	if a[otelproxy.AttrProxyStatus].AsInt64() != 429 || a[otelproxy.AttrErrorSlug].AsString() == "" || a[otelproxy.AttrRequestID].AsString() == "" {
		t.Errorf("attributes %v", sr.Ended()[0].Attributes())
	}
}
