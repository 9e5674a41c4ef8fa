package otelproxy_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.uber.org/goleak"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/internal/benchcpu"
	"github.com/composiohttp/composiohttp/middleware/otelproxy"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// stub plays the Transport: it fills the CallInfo and answers status.
type stub struct {
	status int
	err    error
	seen   *http.Request
}

func (s *stub) RoundTrip(r *http.Request) (*http.Response, error) {
	s.seen = r
	if info := composiohttp.CallInfoFromContext(r.Context()); info != nil {
		info.ConnectedAccountID = "ca_1"
		info.Toolkit = "github"
		info.RequestID = "req_123"
		info.ProxyStatus = 200
		info.UpstreamStatus = s.status
		info.Retries = 2
		info.CacheHit = true
	}
	if s.err != nil {
		return nil, s.err
	}
	rec := httptest.NewRecorder()
	rec.WriteHeader(s.status)
	io.WriteString(rec, "ok")
	return rec.Result(), nil
}

func recorder() (*tracetest.SpanRecorder, *sdktrace.TracerProvider) {
	sr := tracetest.NewSpanRecorder()
	return sr, sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
}

func do(t *testing.T, rt http.RoundTripper, req *http.Request) (*http.Response, error) {
	t.Helper()
	resp, err := rt.RoundTrip(req)
	if err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	return resp, err
}

func attrs(s sdktrace.ReadOnlySpan) map[attribute.Key]attribute.Value {
	m := map[attribute.Key]attribute.Value{}
	for _, kv := range s.Attributes() {
		m[kv.Key] = kv.Value
	}
	return m
}

func TestSpanNameAndAttributes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		opts     []otelproxy.Option
		ctx      func(context.Context) context.Context
		url      string
		wantName string
		wantTmpl string
	}{
		{name: "no template", url: "https://api.github.com/repos/a/b", wantName: "GET"},
		{name: "route from context", url: "https://api.github.com/repos/a/b",
			ctx:      func(c context.Context) context.Context { return otelproxy.ContextWithRoute(c, "/repos/{owner}/{repo}") },
			wantName: "GET /repos/{owner}/{repo}", wantTmpl: "/repos/{owner}/{repo}"},
		{name: "route func", url: "https://api.github.com/user",
			opts:     []otelproxy.Option{otelproxy.WithRouteFunc(func(r *http.Request) string { return "/user" })},
			wantName: "GET /user", wantTmpl: "/user"},
		{name: "context wins over func", url: "https://api.github.com/user",
			opts:     []otelproxy.Option{otelproxy.WithRouteFunc(func(r *http.Request) string { return "/func" })},
			ctx:      func(c context.Context) context.Context { return otelproxy.ContextWithRoute(c, "/ctx") },
			wantName: "GET /ctx", wantTmpl: "/ctx"},
		{name: "relative endpoint", url: "/user", wantName: "GET"},
		{name: "span name formatter passes through", url: "https://api.github.com/user",
			opts:     []otelproxy.Option{otelproxy.WithOTelHTTPOptions(otelhttp.WithSpanNameFormatter(func(string, *http.Request) string { return "custom" }))},
			wantName: "custom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sr, tp := recorder()
			rt := otelproxy.New(&stub{status: 201}, append(tt.opts, otelproxy.WithTracerProvider(tp))...)
			ctx := context.Background()
			if tt.ctx != nil {
				ctx = tt.ctx(ctx)
			}
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, tt.url, nil)
			if _, err := do(t, rt, req); err != nil {
				t.Fatal(err)
			}
			spans := sr.Ended()
			if len(spans) != 1 {
				t.Fatalf("%d spans ended, want 1", len(spans))
			}
			s := spans[0]
			if s.Name() != tt.wantName {
				t.Errorf("span name %q, want %q", s.Name(), tt.wantName)
			}
			a := attrs(s)
			want := map[attribute.Key]attribute.Value{
				otelproxy.AttrToolkit:          attribute.StringValue("github"),
				otelproxy.AttrConnectedAccount: attribute.StringValue("ca_1"),
				otelproxy.AttrRequestID:        attribute.StringValue("req_123"),
				otelproxy.AttrUpstreamStatus:   attribute.IntValue(201),
				otelproxy.AttrProxyStatus:      attribute.IntValue(200),
				otelproxy.AttrResendCount:      attribute.IntValue(2),
				otelproxy.AttrCacheHit:         attribute.BoolValue(true),
				"http.request.method":          attribute.StringValue("GET"),
				"http.response.status_code":    attribute.IntValue(201),
			}
			if tt.wantTmpl != "" {
				want[otelproxy.AttrURLTemplate] = attribute.StringValue(tt.wantTmpl)
			}
			for k, v := range want {
				if a[k] != v {
					t.Errorf("%s = %v, want %v", k, a[k].String(), v.String())
				}
			}
		})
	}
}

func TestNoSecretsInAttributes(t *testing.T) {
	t.Parallel()
	sr, tp := recorder()
	next := &stub{status: 200}
	rt := otelproxy.New(next, otelproxy.WithTracerProvider(tp))
	const raw = "https://user:pa55word@api.example.com/v1/items?page=2&access_token=tok_A&api_key=key_B&X-Amz-Signature=sig_C&code=code_D&sig=sig_E&client_secret=cs_F&q=a%20b"
	req, _ := http.NewRequest(http.MethodGet, raw, nil)
	req.Header.Set("Authorization", "Bearer bearer_G")
	req.Header.Set("X-Api-Key", "ak_H")
	if _, err := do(t, rt, req); err != nil {
		t.Fatal(err)
	}
	if req.URL.String() != raw || len(req.Header) != 2 {
		t.Errorf("caller's request modified: %s %v", req.URL, req.Header)
	}
	if next.seen.URL.String() != raw {
		t.Errorf("next got %s, want the real URL", next.seen.URL)
	}
	s := sr.Ended()[0]
	for _, kv := range s.Attributes() {
		v := kv.Value.String()
		for _, secret := range []string{"pa55word", "tok_A", "key_B", "sig_C", "code_D", "sig_E", "cs_F", "bearer_G", "ak_H"} {
			if strings.Contains(v, secret) {
				t.Errorf("attribute %s = %q shows a secret", kv.Key, v)
			}
		}
	}
	full := attrs(s)["url.full"].AsString()
	if want := "https://api.example.com/v1/items?page=2&access_token=[REDACTED]&api_key=[REDACTED]&X-Amz-Signature=[REDACTED]&code=[REDACTED]&sig=[REDACTED]&client_secret=[REDACTED]&q=a%20b"; full != want {
		t.Errorf("url.full = %q, want %q", full, want)
	}
	if p := attrs(s)[otelproxy.AttrURLPath].AsString(); p != "/v1/items" {
		t.Errorf("url.path = %q", p)
	}
}

func TestProxyError(t *testing.T) {
	t.Parallel()
	sr, tp := recorder()
	perr := &composiohttp.Error{StatusCode: 502, Slug: "BadGateway", RequestID: "req_9"}
	rt := otelproxy.New(&stub{err: perr}, otelproxy.WithTracerProvider(tp))
	req, _ := http.NewRequest(http.MethodGet, "https://api.example.com/", nil)
	if _, err := do(t, rt, req); !errors.Is(err, perr) {
		t.Fatalf("err = %v", err)
	}
	s := sr.Ended()[0]
	if s.Status().Code != codes.Error {
		t.Errorf("status %v", s.Status())
	}
	if a := attrs(s); a[otelproxy.AttrErrorSlug].AsString() != "BadGateway" || a[otelproxy.AttrRequestID].AsString() != "req_123" {
		t.Errorf("attributes %v", s.Attributes())
	}
}

func TestReusesOuterCallInfo(t *testing.T) {
	t.Parallel()
	_, tp := recorder()
	rt := otelproxy.New(&stub{status: 200}, otelproxy.WithTracerProvider(tp))
	info := new(composiohttp.CallInfo)
	req, _ := http.NewRequestWithContext(composiohttp.WithCallInfo(context.Background(), info), http.MethodGet, "https://api.example.com/", nil)
	if _, err := do(t, rt, req); err != nil {
		t.Fatal(err)
	}
	if info.RequestID != "req_123" {
		t.Errorf("outer CallInfo not filled: %+v", info)
	}
}

func TestPropagatorInjects(t *testing.T) {
	t.Parallel()
	_, tp := recorder()
	next := &stub{status: 200}
	rt := otelproxy.New(next, otelproxy.WithTracerProvider(tp), otelproxy.WithPropagators(propagation.TraceContext{}))
	req, _ := http.NewRequest(http.MethodGet, "https://api.example.com/?token=x", nil)
	if _, err := do(t, rt, req); err != nil {
		t.Fatal(err)
	}
	if next.seen.Header.Get("Traceparent") == "" || req.Header.Get("Traceparent") != "" {
		t.Errorf("traceparent below %q, on the caller's request %q", next.seen.Header.Get("Traceparent"), req.Header.Get("Traceparent"))
	}
}

// BenchmarkOverhead compares the middleware with plain otelhttp on the
// same in-memory stub and the same SDK TracerProvider (spans recorded and
// dropped by a no-op exporter).
func BenchmarkOverhead(b *testing.B) {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(tracetest.NewNoopExporter()))
	next := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Header: http.Header{}, Body: http.NoBody, Request: r}, nil
	})
	benchcpu.RoundTrips(b, "https://api.github.com/repos/a/b?page=2", []benchcpu.Named{
		{Name: "stub", RT: next},
		{Name: "otelhttp", RT: otelhttp.NewTransport(next, otelhttp.WithTracerProvider(tp))},
		{Name: "trace", RT: otelproxy.New(next, otelproxy.WithTracerProvider(tp))},
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestMeterProviderInjected(t *testing.T) {
	t.Parallel()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())
	_, tp := recorder()
	rt := otelproxy.New(&stub{status: 200}, otelproxy.WithTracerProvider(tp), otelproxy.WithMeterProvider(mp))
	req, _ := http.NewRequest(http.MethodGet, "https://api.example.com/", nil)
	if _, err := do(t, rt, req); err != nil {
		t.Fatal(err)
	}
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			names = append(names, m.Name)
		}
	}
	if !slices.Contains(names, "http.client.request.duration") {
		t.Errorf("metrics recorded: %v", names)
	}
}

// TestSpanNamesOnOneTransport: one Transport names each call after its own
// method and route, whatever it named before (the namer remembers the last
// name built).
func TestSpanNamesOnOneTransport(t *testing.T) {
	t.Parallel()
	sr, tp := recorder()
	rt := otelproxy.New(&stub{status: 200}, otelproxy.WithTracerProvider(tp))
	calls := []struct {
		method, url, route, want string
	}{
		{http.MethodGet, "https://api.github.com/repos/a/b", "/repos/{owner}/{repo}", "GET /repos/{owner}/{repo}"},
		{http.MethodGet, "https://api.github.com/repos/a/b", "/repos/{owner}/{repo}", "GET /repos/{owner}/{repo}"},
		{http.MethodGet, "https://api.github.com/user", "", "GET"},
		{http.MethodPost, "https://api.github.com/user", "", "POST"},
		{http.MethodPost, "https://slack.com/api/chat.postMessage", "/api/chat.postMessage", "POST /api/chat.postMessage"},
		{http.MethodGet, "https://api.github.com/repos/a/b", "/repos/{owner}/{repo}", "GET /repos/{owner}/{repo}"},
	}
	for _, c := range calls {
		ctx := context.Background()
		if c.route != "" {
			ctx = otelproxy.ContextWithRoute(ctx, c.route)
		}
		req, _ := http.NewRequestWithContext(ctx, c.method, c.url, nil)
		if _, err := do(t, rt, req); err != nil {
			t.Fatal(err)
		}
	}
	spans := sr.Ended()
	if len(spans) != len(calls) {
		t.Fatalf("%d spans, want %d", len(spans), len(calls))
	}
	for i, c := range calls {
		if got := spans[i].Name(); got != c.want {
			t.Errorf("call %d: span %q, want %q", i, got, c.want)
		}
	}
}
