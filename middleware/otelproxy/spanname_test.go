package otelproxy_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/composiohttp/composiohttp/middleware/otelproxy"
)

// TestSpanNameCardinality (issue 13 item 7): 10,000 calls spread over 500
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
				t.Errorf("url.template = %q, want %q", got.Emit(), tt.wantTmpl)
			}
			if host := req.URL.Hostname(); host != "" && a["server.address"].AsString() != host {
				t.Errorf("server.address = %q, want %q", a["server.address"].Emit(), host)
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
