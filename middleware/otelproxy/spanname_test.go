package otelproxy_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/composiohttp/composiohttp/middleware/breaker"
	"github.com/composiohttp/composiohttp/middleware/otelproxy"
)

// TestSpanNameCardinality: 10,000 calls spread over 500
// tenant hosts (tenantN.atlassian.net) give one span name, as the HTTP
// semantic conventions for client spans say ("{method}" when no template
// is known); each host is in server.address only.
func TestSpanNameCardinality(t *testing.T) {
	t.Parallel()
	sr, tp := recorder()
	rt := otelproxy.New(&stub{status: 200}, otelproxy.WithTracerProvider(tp))
	const calls, hosts = 10000, 500
	for i := range calls {
		host := fmt.Sprintf("tenant%d.atlassian.net", i%hosts)
		req, _ := http.NewRequest(http.MethodGet, "https://"+host+"/rest/api/3/issue/KEY-"+fmt.Sprint(i), nil)
		if _, err := do(t, rt, req); err != nil {
			t.Fatal(err)
		}
	}
	spans := sr.Ended()
	if len(spans) != calls {
		t.Fatalf("%d spans, want %d", len(spans), calls)
	}
	names := map[string]int{}
	addrs := map[string]bool{}
	for i, s := range spans {
		names[s.Name()]++
		host := fmt.Sprintf("tenant%d.atlassian.net", i%hosts)
		if got := attrs(s)["server.address"].AsString(); got != host {
			t.Fatalf("span %d: server.address %q, want %q", i, got, host)
		}
		addrs[host] = true
		if strings.Contains(s.Name(), "atlassian") {
			t.Fatalf("span %d: name %q names the host", i, s.Name())
		}
	}
	if len(names) != 1 || names["GET"] != calls {
		t.Errorf("%d distinct span names, want 1 (GET): %v", len(names), first(names, 5))
	}
	if len(addrs) != hosts {
		t.Errorf("%d server.address values, want %d", len(addrs), hosts)
	}
}

func first(m map[string]int, n int) []string {
	var out []string
	for k := range m {
		if len(out) == n {
			break
		}
		out = append(out, k)
	}
	return out
}

// TestSpanNames: "{method} {url.template}" when the template is known,
// else "{method}", and "HTTP" for a method the conventions do not know
// (http.request.method _OTHER); the template is in url.template, the host
// in server.address.
func TestSpanNames(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, method, url, ctxTmpl string
		funcTmpl                   string
		want, wantTmpl             string
	}{
		{name: "no template", method: "GET", url: "https://tenant1.atlassian.net/rest/api/3/myself", want: "GET"},
		{name: "template from context", method: "GET", url: "https://api.github.com/repos/o/r", ctxTmpl: "/repos/{owner}/{repo}",
			want: "GET /repos/{owner}/{repo}", wantTmpl: "/repos/{owner}/{repo}"},
		{name: "template from option", method: "POST", url: "https://api.github.com/repos/o/r/issues", funcTmpl: "/repos/{owner}/{repo}/issues",
			want: "POST /repos/{owner}/{repo}/issues", wantTmpl: "/repos/{owner}/{repo}/issues"},
		{name: "context wins over option", method: "GET", url: "https://api.github.com/user", ctxTmpl: "/user", funcTmpl: "/func",
			want: "GET /user", wantTmpl: "/user"},
		{name: "every known method", method: "PATCH", url: "https://api.github.com/x", want: "PATCH"},
		{name: "lower-case method", method: "delete", url: "https://api.github.com/x", want: "DELETE"},
		{name: "unknown method", method: "PROPFIND", url: "https://dav.example.com/x", want: "HTTP"},
		{name: "unknown method with template", method: "PROPFIND", url: "https://dav.example.com/x", ctxTmpl: "/{file}",
			want: "HTTP /{file}", wantTmpl: "/{file}"},
		{name: "relative endpoint", method: "GET", url: "/user", want: "GET"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sr, tp := recorder()
			opts := []otelproxy.Option{otelproxy.WithTracerProvider(tp)}
			if tt.funcTmpl != "" {
				opts = append(opts, otelproxy.WithRouteFunc(func(*http.Request) string { return tt.funcTmpl }))
			}
			ctx := context.Background()
			if tt.ctxTmpl != "" {
				ctx = otelproxy.ContextWithRoute(ctx, tt.ctxTmpl)
			}
			req, _ := http.NewRequestWithContext(ctx, tt.method, tt.url, nil)
			if _, err := do(t, otelproxy.New(&stub{status: 200}, opts...), req); err != nil {
				t.Fatal(err)
			}
			s := sr.Ended()[0]
			if s.Name() != tt.want {
				t.Errorf("span name %q, want %q", s.Name(), tt.want)
			}
			a := attrs(s)
			if got, ok := a[otelproxy.AttrURLTemplate]; tt.wantTmpl != "" && got.AsString() != tt.wantTmpl || tt.wantTmpl == "" && ok {
				t.Errorf("url.template = %q, want %q", got.String(), tt.wantTmpl)
			}
			if host := req.URL.Hostname(); host != "" && a["server.address"].AsString() != host {
				t.Errorf("server.address = %q, want %q", a["server.address"].String(), host)
			}
		})
	}
}

// TestMetricCardinality: over 500 tenant hosts, the library's own per-call
// instruments keep the same series; only otelhttp's
// http.client.request.duration names each host, in server.address, as the
// conventions require.
func TestMetricCardinality(t *testing.T) {
	t.Parallel()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())
	m, err := otelproxy.NewMetrics(mp)
	if err != nil {
		t.Fatal(err)
	}
	_, tp := recorder()
	rt := otelproxy.New(&stub{status: 200}, otelproxy.WithTracerProvider(tp), otelproxy.WithMeterProvider(mp), otelproxy.WithMetrics(m))
	const hosts = 500
	for i := range 2 * hosts {
		req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("https://tenant%d.atlassian.net/rest/api/3/myself", i%hosts), nil)
		if _, err := do(t, rt, req); err != nil {
			t.Fatal(err)
		}
	}
	series := map[string]int{}
	for k := range collect(t, reader) {
		name := k[:strings.IndexByte(k, '{')]
		series[name]++
		if strings.Contains(k, "atlassian") && name != "http.client.request.duration" && name != "http.client.request.body.size" {
			t.Errorf("%s names a tenant host", k)
		}
	}
	if series["http.client.request.duration"] != hosts {
		t.Errorf("http.client.request.duration: %d series, want one per host (%d)", series["http.client.request.duration"], hosts)
	}
}

// TestBreakerMetricCardinality: breakers keyed by tenant host (the
// default key) or by tenant account do not give the breaker instruments a
// series per tenant: composio.breaker.key is the key's kind by default, the
// state gauge that kind's worst state; WithBreakerKeyAttribute can name
// each key.
func TestBreakerMetricCardinality(t *testing.T) {
	t.Parallel()
	const tenants = 500
	tests := []struct {
		name       string
		opts       []otelproxy.MetricsOption
		key        func(i int) string
		wantSeries int // per instrument
		wantState  map[string]float64
	}{
		{name: "hosts", key: func(i int) string { return fmt.Sprintf("tenant%d.atlassian.net", i) },
			wantSeries: 1, wantState: map[string]float64{"host": 2}},
		{name: "accounts", key: func(i int) string { return fmt.Sprintf("account:ca_%d", i) },
			wantSeries: 1, wantState: map[string]float64{"account": 2}},
		{name: "toolkits are few: kept", key: func(i int) string { return fmt.Sprintf("toolkit:t%d", i%3) },
			wantSeries: 3, wantState: map[string]float64{"toolkit:t0": 2, "toolkit:t1": 2, "toolkit:t2": 2}},
		{name: "each key, when asked", opts: []otelproxy.MetricsOption{otelproxy.WithBreakerKeyAttribute(func(k string) string { return k })},
			key: func(i int) string { return fmt.Sprintf("tenant%d.atlassian.net", i) }, wantSeries: tenants,
			wantState: map[string]float64{"tenant7.atlassian.net": 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			reader := sdkmetric.NewManualReader()
			mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
			defer mp.Shutdown(context.Background())
			m, err := otelproxy.NewMetrics(mp, tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			for i := range tenants {
				m.BreakerStateChange(tt.key(i), breaker.StateClosed, breaker.StateOpen)
			}
			series := map[string]int{}
			got := collect(t, reader)
			for k := range got {
				series[k[:strings.IndexByte(k, '{')]]++
			}
			for _, name := range []string{otelproxy.MetricBreakerState, otelproxy.MetricBreakerTransition} {
				if series[name] != tt.wantSeries {
					t.Errorf("%s: %d series, want %d", name, series[name], tt.wantSeries)
				}
			}
			for key, v := range tt.wantState {
				if p := got[otelproxy.MetricBreakerState+"{composio.breaker.key="+key+"}"]; p.value != v {
					t.Errorf("state of %s = %v, want %v", key, p.value, v)
				}
			}
		})
	}
}

// TestBreakerStateWorst: the state gauge of a kind is the worst state of
// its breakers, and goes back to 0 when the last one closes.
func TestBreakerStateWorst(t *testing.T) {
	t.Parallel()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())
	m, err := otelproxy.NewMetrics(mp, nil)
	if err != nil {
		t.Fatal(err)
	}
	const key = otelproxy.MetricBreakerState + "{composio.breaker.key=host}"
	steps := []struct {
		key      string
		from, to breaker.State
		want     float64
	}{
		{"a.example", breaker.StateClosed, breaker.StateOpen, 2},
		{"b.example", breaker.StateClosed, breaker.StateOpen, 2},
		{"a.example", breaker.StateOpen, breaker.StateHalfOpen, 2},
		{"b.example", breaker.StateOpen, breaker.StateHalfOpen, 1},
		{"a.example", breaker.StateHalfOpen, breaker.StateClosed, 1},
		{"b.example", breaker.StateHalfOpen, breaker.StateClosed, 0},
	}
	for i, s := range steps {
		m.BreakerStateChange(s.key, s.from, s.to)
		if got := collect(t, reader)[key].value; got != s.want {
			t.Errorf("step %d (%s %v→%v): state %v, want %v", i, s.key, s.from, s.to, got, s.want)
		}
	}
	for k, want := range map[string]string{
		"api.github.com": "host", "host:x.atlassian.net": "host", "localhost:8080": "host",
		"toolkit:jira": "toolkit:jira", "account:ca_1": "account", "connection:ab12": "connection",
		"user:u_1/toolkit:github": "user", "session:s_1": "session", "": "",
	} {
		if got := otelproxy.BreakerKeyKind(k); got != want {
			t.Errorf("BreakerKeyKind(%q) = %q, want %q", k, got, want)
		}
	}
}
