package middleware_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/middleware"
	"github.com/composiohttp/composiohttp/middleware/breaker"
	"github.com/composiohttp/composiohttp/middleware/cache"
	"github.com/composiohttp/composiohttp/middleware/logging"
	"github.com/composiohttp/composiohttp/middleware/otelproxy"
	"github.com/composiohttp/composiohttp/middleware/ratelimit"
	"github.com/composiohttp/composiohttp/middleware/retry"
	"github.com/composiohttp/composiohttp/testutil"
)

// virtualClock is one clock for the whole chain: every sleep advances it
// at once instead of waiting.
type virtualClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *virtualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *virtualClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
	return ctx.Err()
}

// The full production chain, every middleware in its documented place,
// with one injected clock: the proxy answers 429 with Retry-After: 1,
// retry and the rate limiter wait that second on the clock, not in real
// time. (Inside a testing/synctest bubble no injection is needed at all:
// see TestProductionChainRetryAfterFast.)
func ExampleChain_production() {
	clk := &virtualClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	srv := testutil.NewUnstartedServer(testutil.WithClock(clk.Now), testutil.WithSleep(clk.Sleep))
	srv.Start()
	defer srv.Close()
	srv.AddAccount(testutil.Account{
		ID: "ca_1", Toolkit: "github", AuthScheme: credentials.OAuth2,
		Val: credentials.Val{AccessToken: "gho_example"},
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"login":"octocat"}`)
		}),
	})
	srv.Inject(testutil.Fault{Status: http.StatusTooManyRequests, RetryAfter: "1", Times: 1})

	org := &ratelimit.OrgLimiter{Now: clk.Now, Sleep: clk.Sleep} // Composio's org-wide limit, from its headers
	transport := srv.Transport()
	transport.ConnectedAccountID = "ca_1"
	transport.Base = org.Transport(transport.Base)
	perAccount := &ratelimit.Local{Limit: 10, Burst: 20, Now: clk.Now, Sleep: clk.Sleep}
	client := &http.Client{Transport: middleware.Chain(transport,
		otelproxy.Middleware(),
		logging.Middleware(logging.WithLogger(slog.New(slog.DiscardHandler))),
		cache.Middleware(),
		retry.Middleware(retry.WithClock(clk.Now), retry.WithSleep(clk.Sleep), retry.WithBudget(&retry.Budget{MinRetries: 10, Now: clk.Now})),
		breaker.Middleware(),
		ratelimit.Middleware(perAccount, ratelimit.WithClock(clk.Now)),
	)}

	start := clk.Now()
	info := &composiohttp.CallInfo{}
	req, _ := http.NewRequestWithContext(composiohttp.WithCallInfo(context.Background(), info), "GET", "https://api.github.com/user", nil)
	resp, err := client.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, string(body))
	fmt.Println("retries:", info.Retries, "waited on the clock:", clk.Now().Sub(start))
	// Output:
	// 200 {"login":"octocat"}
	// retries: 1 waited on the clock: 1s
}

// TestProductionChainRetryAfterFast: the full recommended chain, in a
// testing/synctest bubble with the fake in process, meets a 429 with
// Retry-After: 20. Every wait (retry's, the per-account limiter's adaptive
// pause, the org limiter's) runs on the bubble's clock: the call takes
// its 20 s of virtual time, and the whole test, setup included, a few
// milliseconds of wall time.
func TestProductionChainRetryAfterFast(t *testing.T) {
	t.Parallel()
	realStart := time.Now() // outside the bubble: the real clock
	synctest.Test(t, func(t *testing.T) {
		srv := testutil.NewUnstartedServer(testutil.WithOrgLimit(1000, time.Minute))
		srv.URL = "http://composio.test"
		defer srv.Close()
		srv.AddAccount(testutil.Account{ID: "ca_1", Toolkit: "github", AuthScheme: credentials.OAuth2,
			Val: credentials.Val{AccessToken: "gho_x"},
			Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				io.WriteString(w, `{"login":"octocat"}`)
			})})
		exporter := tracetest.NewInMemoryExporter()
		tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exporter))
		defer tp.Shutdown(context.Background())
		org := &ratelimit.OrgLimiter{}
		transport := srv.InProcessTransport()
		transport.ConnectedAccountID = "ca_1"
		transport.Base = org.Transport(transport.Base)
		client := &http.Client{Transport: middleware.Chain(transport,
			otelproxy.Middleware(otelproxy.WithTracerProvider(tp)),
			logging.Middleware(logging.WithLogger(slog.New(slog.DiscardHandler))),
			cache.Middleware(),
			retry.Middleware(retry.WithBudget(&retry.Budget{MinRetries: 10})),
			breaker.Middleware(),
			ratelimit.Middleware(ratelimit.NewLocal(10, 20)),
		)}
		srv.Inject(testutil.Fault{Status: http.StatusTooManyRequests, RetryAfter: "20", Times: 1})

		start := time.Now()
		resp, err := client.Get("https://api.github.com/user")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("status %d", resp.StatusCode)
		}
		if d := time.Since(start); d < 20*time.Second {
			t.Errorf("virtual time %v: the Retry-After was not waited", d)
		}
		if n := len(exporter.GetSpans()); n == 0 {
			t.Error("no span")
		}
		// The org limiter saw the fake's headers.
		if st := org.State(); !st.Known || st.Limit != 1000 {
			t.Errorf("org state %+v", st)
		}
		var oe *breaker.OpenError
		if errors.As(err, &oe) {
			t.Errorf("breaker: %v", err)
		}
	})
	// The 20 s Retry-After was waited in the bubble's virtual time: had a
	// layer slept on the real clock, the test would have taken 20 s. The
	// bound is far from both, so a loaded machine cannot fail it.
	wall := time.Since(realStart)
	t.Logf("wall time of the whole test (setup included): %v", wall)
	if wall >= 10*time.Second {
		t.Errorf("the test took %v of wall time: the Retry-After was waited on the real clock", wall)
	}
}
