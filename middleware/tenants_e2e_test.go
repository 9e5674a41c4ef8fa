package middleware_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
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

// TestChainTwoUsers: two users, selected by user id only, call the same
// cacheable GitHub URL concurrently through the whole chain with the cache
// on. Each always gets their own data, from the upstream or from their
// own cache entries, never the other's; each user's account is looked up
// once.
func TestChainTwoUsers(t *testing.T) {
	t.Parallel()
	srv := testutil.NewServer(t)
	var upstreamCalls atomic.Int32
	users := []string{"alice", "bob"}
	for _, u := range users {
		srv.AddAccount(testutil.Account{
			ID: "ca_" + u, UserID: u, Toolkit: "github", AuthScheme: credentials.OAuth2,
			Val: credentials.Val{AccessToken: "tok_" + u},
			Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				upstreamCalls.Add(1)
				login, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer tok_")
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("Cache-Control", "private, max-age=300")
				fmt.Fprintf(w, `{"login":%q,"path":%q}`, login, r.URL.Path)
			}),
		})
	}
	// An account of a third user that a listing ignoring its filters
	// would hand out: it must never serve alice or bob.
	srv.AddAccount(testutil.Account{ID: "ca_mallory", UserID: "mallory", Toolkit: "github",
		AuthScheme: credentials.OAuth2, Val: credentials.Val{AccessToken: "tok_mallory"}})

	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	defer tp.Shutdown(context.Background())
	noSleep := func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	rt := middleware.Chain(srv.Transport(),
		otelproxy.Middleware(otelproxy.WithTracerProvider(tp)),
		logging.Middleware(logging.WithLogger(slog.New(slog.NewJSONHandler(io.Discard, nil)))),
		cache.Middleware(),
		retry.Middleware(retry.WithSleep(noSleep), retry.WithBackOff(func() backoff.BackOff { return &backoff.ZeroBackOff{} })),
		ratelimit.Middleware(&ratelimit.Local{Limit: 1e6, Burst: 1e6, Sleep: noSleep}),
	)
	client := &http.Client{Transport: rt}

	const rounds = 20
	var wg sync.WaitGroup
	var cacheHits atomic.Int32
	for i := range rounds * len(users) {
		wg.Go(func() {
			user := users[i%len(users)]
			path := fmt.Sprintf("/repos/o/r/issues/%d", i/len(users)%3) // both users, same three URLs
			info := &composiohttp.CallInfo{}
			ctx := composiohttp.WithCallInfo(composiohttp.WithUser(context.Background(), user), info)
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://api.github.com"+path, nil)
			resp, err := client.Do(req)
			if err != nil {
				t.Errorf("%s %s: %v", user, path, err)
				return
			}
			defer resp.Body.Close()
			var got struct{ Login, Path string }
			if b, _ := io.ReadAll(resp.Body); json.Unmarshal(b, &got) != nil || got.Login != user || got.Path != path {
				t.Errorf("%s %s got %s", user, path, b)
			}
			if info.CacheHit {
				cacheHits.Add(1)
			} else if info.ConnectedAccountID != "ca_"+user {
				t.Errorf("%s: the call used account %q", user, info.ConnectedAccountID)
			}
		})
	}
	wg.Wait()
	// A second, sequential round: everything is now in the cache, each
	// user's own.
	for _, user := range users {
		for p := range 3 {
			path := fmt.Sprintf("/repos/o/r/issues/%d", p)
			info := &composiohttp.CallInfo{}
			ctx := composiohttp.WithCallInfo(composiohttp.WithUser(context.Background(), user), info)
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://api.github.com"+path, nil)
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !info.CacheHit || !strings.Contains(string(b), fmt.Sprintf(`"login":%q`, user)) {
				t.Errorf("%s %s: cache hit %v, body %s", user, path, info.CacheHit, b)
			}
		}
	}
	if n := upstreamCalls.Load(); n < 6 || n > rounds*2 {
		t.Errorf("%d upstream calls: want each user's three URLs fetched at least once", n)
	}
	if n := len(srv.AccountListings()); n != 2 {
		t.Errorf("%d account lookups, want 2 (one per user)", n)
	}
	if u := srv.UnknownListParams(); len(u) != 0 {
		t.Errorf("unknown listing filters sent: %q", u)
	}
}
