package middleware_test

import (
	"context"
	"log/slog"
	"net/http"
	"testing"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/internal/benchcpu"
	"github.com/composiohttp/composiohttp/middleware"
	"github.com/composiohttp/composiohttp/middleware/breaker"
	"github.com/composiohttp/composiohttp/middleware/cache"
	"github.com/composiohttp/composiohttp/middleware/logging"
	"github.com/composiohttp/composiohttp/middleware/otelproxy"
	"github.com/composiohttp/composiohttp/middleware/ratelimit"
	"github.com/composiohttp/composiohttp/middleware/retry"
)

// okStub answers every call with a fresh 200 that may not be cached, so
// that each benchmark measures what its middleware adds to a call.
type okStub struct{}

func (okStub) RoundTrip(*http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: 200, Header: http.Header{"Cache-Control": {"no-store"}}, Body: http.NoBody}, nil
}

// BenchmarkEachMiddleware: what each middleware of the production chain
// adds to a call, alone on a stub, and the whole chain, in the same run
// (the README's production setup quotes these). The request acts for a
// connected account, as a multi-tenant service's do.
func BenchmarkEachMiddleware(b *testing.B) {
	quiet := slog.New(slog.DiscardHandler)
	org := &ratelimit.OrgLimiter{}
	mws := []struct {
		name string
		rt   http.RoundTripper
	}{
		{"stub", okStub{}},
		{"otelproxy", otelproxy.New(okStub{})},
		{"logging", logging.New(okStub{}, logging.WithLogger(quiet))},
		{"cache-miss", cache.New(okStub{})},
		{"retry", retry.New(okStub{})},
		{"retry-budget", retry.New(okStub{}, retry.WithBudget(&retry.Budget{}))},
		{"breaker", breaker.New(okStub{})},
		{"ratelimit", ratelimit.New(okStub{}, ratelimit.NewLocal(1e9, 1e9))},
		{"org-limiter", org.Transport(okStub{})},
		{"chain", middleware.Chain(okStub{},
			otelproxy.Middleware(),
			logging.Middleware(logging.WithLogger(quiet)),
			cache.Middleware(),
			retry.Middleware(retry.WithBudget(&retry.Budget{})),
			breaker.Middleware(),
			ratelimit.Middleware(ratelimit.NewLocal(1e9, 1e9)),
		)},
	}
	ctx := composiohttp.WithConnectedAccount(context.Background(), "ca_bench")
	for _, m := range mws {
		b.Run(m.name, func(b *testing.B) {
			url := "https://api.github.com/user"
			if m.name == "org-limiter" {
				url = "https://backend.composio.dev/api/v3.1/tools/execute/proxy"
			}
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			b.ReportAllocs()
			done := benchcpu.Start(b)
			for b.Loop() {
				resp, err := m.rt.RoundTrip(req)
				if err != nil {
					b.Fatal(err)
				}
				resp.Body.Close()
			}
			done()
		})
	}
}
