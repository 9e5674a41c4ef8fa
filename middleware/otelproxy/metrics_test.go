package otelproxy_test

import (
	"context"
	"io"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/internal/benchcpu"
	"github.com/composiohttp/composiohttp/middleware"
	"github.com/composiohttp/composiohttp/middleware/breaker"
	"github.com/composiohttp/composiohttp/middleware/cache"
	"github.com/composiohttp/composiohttp/middleware/otelproxy"
	"github.com/composiohttp/composiohttp/middleware/ratelimit"
	"github.com/composiohttp/composiohttp/middleware/retry"
	"github.com/composiohttp/composiohttp/testutil"
)

// point is one data point found by name and attributes.
type point struct {
	unit  string
	value float64 // sum, gauge value, or histogram count
}

// collect reads every data point, keyed by "name{k=v,...}" (attributes in
// their set's order).
func collect(t *testing.T, reader *sdkmetric.ManualReader) map[string]point {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]point{}
	key := func(name string, set attribute.Set) string {
		k := name + "{"
		for i, kv := range set.ToSlice() {
			if i > 0 {
				k += ","
			}
			k += string(kv.Key) + "=" + kv.Value.String()
		}
		return k + "}"
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					out[key(m.Name, p.Attributes)] = point{m.Unit, float64(p.Value)}
				}
			case metricdata.Gauge[int64]:
				for _, p := range d.DataPoints {
					out[key(m.Name, p.Attributes)] = point{m.Unit, float64(p.Value)}
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					out[key(m.Name, p.Attributes)] = point{m.Unit, float64(p.Count)}
				}
			}
		}
	}
	return out
}

// TestMetrics drives the instrumented production chain against the fake
// (in process, in a synctest bubble) and reads every instrument through a
// ManualReader: names, units, attributes and counts.
func TestMetrics(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		reader := sdkmetric.NewManualReader()
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
		defer mp.Shutdown(context.Background())
		spans := tracetest.NewInMemoryExporter()
		tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
		defer tp.Shutdown(context.Background())
		m, err := otelproxy.NewMetrics(mp)
		if err != nil {
			t.Fatal(err)
		}

		s := testutil.NewUnstartedServer(testutil.WithOrgLimit(100, time.Minute))
		s.URL = "http://composio.test:8080"
		defer s.Close()
		s.AddAccount(testutil.Account{ID: "ca_1", UserID: "u_1", Toolkit: "github", AuthScheme: credentials.OAuth2,
			Val: credentials.Val{AccessToken: "gho_x"},
			Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("Cache-Control", "max-age=60")
				if r.URL.Path == "/missing" {
					w.WriteHeader(404)
				}
				io.WriteString(w, `{}`)
			})})
		org := &ratelimit.OrgLimiter{OnWait: m.OrgWait}
		tr := s.InProcessTransport()
		tr.Base = org.Transport(tr.Base)
		g := breaker.NewLocal(breaker.Settings{OnStateChange: m.BreakerStateChange,
			ReadyToTrip: func(c breaker.Counts) bool { return c.ConsecutiveFailures >= 2 }})
		client := &http.Client{Transport: middleware.Chain(tr,
			otelproxy.Middleware(otelproxy.WithTracerProvider(tp), otelproxy.WithMeterProvider(mp), otelproxy.WithMetrics(m)),
			cache.Middleware(),
			retry.Middleware(m.RetryOption()),
			otelproxy.Attempts(tp),
			breaker.Middleware(breaker.WithGroup(g), breaker.WithKey(breaker.KeyByAccount)),
			ratelimit.Middleware(ratelimit.NewLocal(100, 100), m.RateLimitOption()),
		)}
		ctx := composiohttp.WithConnectedAccount(context.Background(), "ca_1")
		get := func(path string) {
			t.Helper()
			req, _ := http.NewRequestWithContext(ctx, "GET", "https://api.github.com"+path, nil)
			resp, err := client.Do(req)
			if err != nil {
				t.Logf("%s: %v", path, err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		s.Inject(testutil.Fault{Status: 503, Times: 1})
		get("/user")    // proxy 503, retried: 200 (cache miss)
		get("/user")    // cache hit
		get("/missing") // upstream 404 (miss)
		post, _ := http.NewRequestWithContext(ctx, "POST", "https://api.github.com/user", nil)
		if resp, err := client.Do(post); err == nil { // bypass
			resp.Body.Close()
		}
		// By user id: resolved through the connected-accounts API once,
		// then from the resolver's cache.
		for _, path := range []string{"/u1", "/u2"} {
			req, _ := http.NewRequestWithContext(composiohttp.WithToolkit(composiohttp.WithUser(context.Background(), "u_1"), "github"), "GET", "https://api.github.com"+path, nil)
			resp, err := client.Do(req)
			if err != nil {
				t.Fatalf("by user: %v", err)
			}
			resp.Body.Close()
		}
		s.Inject(testutil.Fault{Status: 502})
		get("/other") // 502 ×2: the breaker opens, the third attempt is refused and retrying ends
		s.Reset()

		got := collect(t, reader)
		want := map[string]point{
			"composio.client.retries{composio.retry.reason=proxy_503}":                                                                {"{retry}", 1},
			"composio.client.retries{composio.retry.reason=proxy_502}":                                                                {"{retry}", 2},
			"composio.client.cache.requests{composio.cache.result=hit}":                                                               {"{request}", 1},
			"composio.client.cache.requests{composio.cache.result=miss}":                                                              {"{request}", 5},
			"composio.client.cache.requests{composio.cache.result=bypass}":                                                            {"{request}", 1},
			"composio.client.calls{composio.proxy.status_code=200,composio.upstream.status_code=200}":                                 {"{call}", 4},
			"composio.client.calls{composio.proxy.status_code=200,composio.upstream.status_code=404}":                                 {"{call}", 1},
			"composio.client.breaker.state{composio.breaker.key=account}":                                                             {"1", 2},
			"composio.client.breaker.transitions{composio.breaker.from=closed,composio.breaker.key=account,composio.breaker.to=open}": {"{transition}", 1},
			"composio.client.rate_limit.wait{composio.rate_limit.limiter=account}":                                                    {"s", 8},
			"composio.client.account_resolver.resolutions{composio.account_resolver.cache_hit=false}":                                 {"{resolution}", 1},
			"composio.client.account_resolver.resolutions{composio.account_resolver.cache_hit=true}":                                  {"{resolution}", 1},
			"composio.client.account_resolver.lookups{}":                                                                              {"{lookup}", 1},
		}
		for k, w := range want {
			if g, ok := got[k]; !ok || g != w {
				t.Errorf("%s = %+v, want %+v", k, g, w)
			}
		}
		// otelhttp's duration: the upstream as server.address, the proxy
		// as network.peer.address.
		found := false
		for k, p := range got {
			if len(k) > 28 && k[:28] == "http.client.request.duration" {
				found = true
				set := k[29:]
				for _, a := range []string{"server.address=api.github.com", "network.peer.address=composio.test"} {
					if !contains(set, a) {
						t.Errorf("%s: no %s", k, a)
					}
				}
				// server.port is the upstream's (443, the scheme's default,
				// is left out as the conventions allow), never the proxy's.
				if contains(set, "server.port=8080") || contains(set, "server.address=composio.test") {
					t.Errorf("%s names the proxy as the server", k)
				}
				if p.unit != "s" {
					t.Errorf("%s: unit %q", k, p.unit)
				}
			}
		}
		if !found {
			t.Errorf("no http.client.request.duration in %v", got)
		}
		// One child span per attempt, with its resend count.
		var resends []int64
		for _, sp := range spans.GetSpans() {
			if sp.Parent.IsValid() {
				for _, a := range sp.Attributes {
					if a.Key == "http.request.resend_count" {
						resends = append(resends, a.Value.AsInt64())
					}
				}
			}
		}
		if len(resends) < 6 || resends[0] != 0 || resends[1] != 1 {
			t.Errorf("attempt spans' resend counts %v, want 0, 1 for the first call's two attempts", resends)
		}
	})
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

// metricsBenchRig is the setup both metrics benchmarks share: a tracer
// provider with a no-op exporter, a meter provider with a manual reader,
// the library's metrics on it, and a stub next that answers 200 and fills
// the CallInfo as the root Transport would.
func metricsBenchRig() (*sdktrace.TracerProvider, *sdkmetric.MeterProvider, *otelproxy.Metrics, http.RoundTripper) {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(tracetest.NewNoopExporter()))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	m, _ := otelproxy.NewMetrics(mp)
	next := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if info := composiohttp.CallInfoFromContext(r.Context()); info != nil {
			info.ProxyStatus, info.UpstreamStatus, info.RequestID = 200, 200, "req_1"
		}
		return &http.Response{StatusCode: 200, Header: http.Header{}, Body: http.NoBody, Request: r}, nil
	})
	return tp, mp, m, next
}

// BenchmarkMetricsOverhead: otelhttp alone, then otelproxy with the
// library's metrics, on the same stub and providers, in the same run.
// Target: ≤ 1.3× otelhttp alone.
func BenchmarkMetricsOverhead(b *testing.B) {
	tp, mp, m, next := metricsBenchRig()
	benchcpu.RoundTrips(b, "https://api.github.com/repos/a/b", []benchcpu.Named{
		{Name: "otelhttp", RT: otelhttp.NewTransport(next, otelhttp.WithTracerProvider(tp), otelhttp.WithMeterProvider(mp))},
		{Name: "otelhttp+same-attributes", RT: otelhttp.NewTransport(sameAttributes(next), otelhttp.WithTracerProvider(tp), otelhttp.WithMeterProvider(mp))},
		{Name: "otelproxy", RT: otelproxy.New(next, otelproxy.WithTracerProvider(tp), otelproxy.WithMeterProvider(mp))},
		{Name: "otelproxy+metrics", RT: otelproxy.New(next, otelproxy.WithTracerProvider(tp), otelproxy.WithMeterProvider(mp), otelproxy.WithMetrics(m))},
	})
}

// sameAttributes sets, on otelhttp's span, constants standing for the
// attributes otelproxy adds to a call of BenchmarkMetricsOverhead (url.path,
// composio.request_id, the two status codes, composio.cache.hit), in one
// SetAttributes call: what the SDK alone spends on storing them, with no
// middleware work.
func sameAttributes(next http.RoundTripper) http.RoundTripper {
	attrs := []attribute.KeyValue{
		otelproxy.AttrURLPath.String("/repos/a/b"), otelproxy.AttrRequestID.String("req_1"),
		otelproxy.AttrUpstreamStatus.Int(200), otelproxy.AttrProxyStatus.Int(200), otelproxy.AttrCacheHit.Bool(false),
	}
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		trace.SpanFromContext(r.Context()).SetAttributes(attrs...)
		return next.RoundTrip(r)
	})
}

// BenchmarkMetricsOverheadRatio measures, in alternating blocks of calls
// (benchcpu.Interleave), the CPU time of otelproxy with metrics over that
// of otelhttp alone (cpu-ratio, target ≤ 1.3), and, as the
// floor no middleware code can go below, the CPU time of otelhttp storing
// the same attributes as constants (floor-ratio).
func BenchmarkMetricsOverheadRatio(b *testing.B) {
	tp, mp, m, next := metricsBenchRig()
	req, _ := http.NewRequest(http.MethodGet, "https://api.github.com/repos/a/b", nil)
	call := func(rt http.RoundTripper) func() {
		return func() {
			resp, err := rt.RoundTrip(req)
			if err != nil {
				b.Fatal(err)
			}
			resp.Body.Close()
		}
	}
	plain := call(otelhttp.NewTransport(next, otelhttp.WithTracerProvider(tp), otelhttp.WithMeterProvider(mp)))
	floor := call(otelhttp.NewTransport(sameAttributes(next), otelhttp.WithTracerProvider(tp), otelhttp.WithMeterProvider(mp)))
	proxy := call(otelproxy.New(next, otelproxy.WithTracerProvider(tp), otelproxy.WithMeterProvider(mp), otelproxy.WithMetrics(m)))
	b.ResetTimer()
	plainNs, proxyNs, ratio, ok := benchcpu.Interleave(b.N, 100, plain, proxy)
	_, floorNs, floorRatio, ok2 := benchcpu.Interleave(b.N, 100, plain, floor)
	b.StopTimer()
	if ok && ok2 {
		b.ReportMetric(plainNs, "otelhttp-cpu-ns/call")
		b.ReportMetric(proxyNs, "otelproxy-cpu-ns/call")
		b.ReportMetric(floorNs, "floor-cpu-ns/call")
		b.ReportMetric(ratio, "cpu-ratio")
		b.ReportMetric(floorRatio, "floor-ratio")
	}
}

// TestClientLabeler: otelhttp's client Labeler works through the
// middleware: one in the caller's context, and one a layer below fills,
// both add their attributes to http.client.request.duration.
func TestClientLabeler(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		caller bool // the caller's context has a Labeler
	}{{"caller's labeler", true}, {"middleware's labeler", false}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			reader := sdkmetric.NewManualReader()
			mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
			defer mp.Shutdown(context.Background())
			_, tp := recorder()
			below := roundTripFunc(func(r *http.Request) (*http.Response, error) {
				l, ok := otelhttp.ClientLabelerFromContext(r.Context())
				if !ok {
					t.Error("no client Labeler below the middleware")
				}
				l.Add(attribute.String("below", "yes"))
				return &http.Response{StatusCode: 200, Header: http.Header{}, Body: http.NoBody, Request: r}, nil
			})
			rt := otelproxy.New(below, otelproxy.WithTracerProvider(tp), otelproxy.WithMeterProvider(mp), otelproxy.WithProxyAddress("proxy.test"))
			ctx := context.Background()
			want := []string{"below=yes", "network.peer.address=proxy.test", "server.address=api.github.com"}
			if tt.caller {
				l := &otelhttp.Labeler{}
				l.Add(attribute.String("caller", "yes"))
				ctx = otelhttp.ContextWithClientLabeler(ctx, l)
				want = append(want, "caller=yes")
			}
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://api.github.com/user", nil)
			if _, err := do(t, rt, req); err != nil {
				t.Fatal(err)
			}
			n := 0
			for k := range collect(t, reader) {
				if !contains(k, "http.client.request.duration{") {
					continue
				}
				n++
				for _, w := range want {
					if !contains(k, w) {
						t.Errorf("%s: no %s", k, w)
					}
				}
			}
			if n != 1 {
				t.Errorf("%d http.client.request.duration series, want 1", n)
			}
		})
	}
}
