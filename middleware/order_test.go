package middleware_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/middleware"
	"github.com/composiohttp/composiohttp/middleware/ratelimit"
	"github.com/composiohttp/composiohttp/middleware/retry"
	"github.com/composiohttp/composiohttp/testutil"
)

// clock is a fake clock shared by retry and ratelimit, advanced by their
// sleeps, which it records by layer.
type clock struct {
	mu     sync.Mutex
	t      time.Time
	sleeps []string
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) sleeper(layer string) func(context.Context, time.Duration) error {
	return func(ctx context.Context, d time.Duration) error {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.t = c.t.Add(d)
		c.sleeps = append(c.sleeps, fmt.Sprint(layer, " ", d))
		return ctx.Err()
	}
}

// With retry above ratelimit, a 429 with Retry-After makes the limiter
// pause the account and retry wait the same time: the retry then goes
// through without a second wait, and the next call is not held back.
func TestRetryAboveRateLimit(t *testing.T) {
	t.Parallel()
	srv := testutil.NewServer(t)
	srv.AddAccount(testutil.Account{ID: "ca_1", Toolkit: "github", AuthScheme: credentials.OAuth2,
		Val:     credentials.Val{AccessToken: "tok"},
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })})
	srv.Inject(testutil.Fault{Status: 429, RetryAfter: "3", Times: 1})
	tr := srv.Transport()
	tr.ConnectedAccountID = "ca_1"

	c := &clock{t: time.Now()}
	limiter := &ratelimit.Local{Limit: 100, Burst: 100, Now: c.now, Sleep: c.sleeper("ratelimit")}
	client := &http.Client{Transport: middleware.Chain(tr,
		retry.Middleware(retry.WithClock(c.now), retry.WithSleep(c.sleeper("retry"))),
		ratelimit.Middleware(limiter, ratelimit.WithClock(c.now)),
	)}
	for range 2 {
		resp, err := client.Get("https://api.github.com/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if got := fmt.Sprint(c.sleeps); got != "[retry 3s]" {
		t.Errorf("sleeps = %s, want [retry 3s]", got)
	}
	if n := len(srv.Requests()); n != 3 {
		t.Errorf("%d proxy calls, want 3", n)
	}
}
