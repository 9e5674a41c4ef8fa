package middleware_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v4"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/middleware"
	"github.com/composiohttp/composiohttp/middleware/cache"
	"github.com/composiohttp/composiohttp/middleware/logging"
	"github.com/composiohttp/composiohttp/middleware/otelproxy"
	"github.com/composiohttp/composiohttp/middleware/ratelimit"
	"github.com/composiohttp/composiohttp/middleware/retry"
	"github.com/composiohttp/composiohttp/testutil"
)

// syncBuffer is a bytes.Buffer safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) lines() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Count(s.b.Bytes(), []byte("\n"))
}

// TestChainConcurrent sends 64 concurrent calls for 4 accounts through
// all five middlewares in the recommended order, with proxy faults
// injected: every call succeeds with its own account's reply, each fault
// is retried once, and every call is traced and logged once.
func TestChainConcurrent(t *testing.T) {
	t.Parallel()
	const calls, accounts = 64, 4
	srv := testutil.NewServer(t)
	for a := range accounts {
		id := fmt.Sprintf("ca_%d", a)
		srv.AddAccount(testutil.Account{
			ID: id, Toolkit: "github", AuthScheme: credentials.OAuth2,
			Val: credentials.Val{AccessToken: "tok_" + id},
			Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprintf(w, `{"account":%q,"path":%q}`, id, r.URL.Path)
			}),
		})
	}
	srv.Inject(testutil.Fault{Status: 502, Times: 2, Account: "ca_1"})
	srv.Inject(testutil.Fault{Status: 429, RetryAfter: "1", Times: 2, Account: "ca_2"})
	srv.Inject(testutil.Fault{Drop: true, Times: 1, Account: "ca_3"})

	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	defer tp.Shutdown(context.Background())
	var logs syncBuffer
	noSleep := func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	limiter := &ratelimit.Local{Limit: 1e6, Burst: 1e6, Sleep: noSleep}

	rt := middleware.Chain(srv.Transport(),
		otelproxy.Middleware(otelproxy.WithTracerProvider(tp)),
		logging.Middleware(logging.WithLogger(slog.New(slog.NewJSONHandler(&logs, nil)))),
		cache.Middleware(),
		retry.Middleware(retry.WithSleep(noSleep),
			retry.WithBackOff(func() backoff.BackOff { return &backoff.ZeroBackOff{} })),
		ratelimit.Middleware(limiter),
	)
	client := &http.Client{Transport: rt}

	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		retries int
	)
	for i := range calls {
		wg.Go(func() {
			account := fmt.Sprintf("ca_%d", i%accounts)
			info := &composiohttp.CallInfo{}
			ctx := composiohttp.WithCallInfo(composiohttp.WithConnectedAccount(context.Background(), account), info)
			path := fmt.Sprintf("/items/%d", i)
			req, _ := http.NewRequestWithContext(ctx, "GET", "https://api.github.com"+path, nil)
			resp, err := client.Do(req)
			if err != nil {
				t.Errorf("call %d: %v", i, err)
				return
			}
			defer resp.Body.Close()
			var got struct{ Account, Path string }
			if b, _ := io.ReadAll(resp.Body); json.Unmarshal(b, &got) != nil || got.Account != account || got.Path != path {
				t.Errorf("call %d for %s %s: status %d, body %s", i, account, path, resp.StatusCode, b)
			}
			mu.Lock()
			retries += info.Retries
			mu.Unlock()
		})
	}
	wg.Wait()
	if retries != 5 {
		t.Errorf("%d retries in total, want 5 (one per fault)", retries)
	}
	if n := len(srv.Requests()); n != calls+5 {
		t.Errorf("%d proxy calls, want %d", n, calls+5)
	}
	if n := len(spans.Ended()); n != calls {
		t.Errorf("%d spans ended, want %d", n, calls)
	}
	if n := logs.lines(); n != calls {
		t.Errorf("%d log lines, want %d", n, calls)
	}
}
