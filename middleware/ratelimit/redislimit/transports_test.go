package redislimit

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/go-redis/redis_rate/v10"

	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/middleware/ratelimit"
	"github.com/composiohttp/composiohttp/testutil"
)

// Transports acting for different accounts through their own
// ConnectedAccountID, sharing one Limiter, keep separate keys: a 429 for
// one account pauses that account only.
func TestTransportsShareLimiter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		fault    *testutil.Fault
		path     string
		min, max time.Duration // ca_1's wait after its 429
	}{
		{name: "proxy 429", fault: &testutil.Fault{Status: 429, RetryAfter: "3", Times: 1, Account: "ca_1"}, path: "/x", min: 2 * time.Second, max: 3 * time.Second},
		{name: "upstream 429", path: "/slow-down", min: 3 * time.Second, max: 4 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newClient(t)
			prefix := uniquePrefix(t)
			var mu sync.Mutex
			waits := map[string][]time.Duration{}
			waiter := "" // the account whose call is running
			l := &Limiter{Client: c, Limit: redis_rate.PerSecond(100), Prefix: prefix,
				Sleep: func(ctx context.Context, d time.Duration) error {
					mu.Lock()
					waits[waiter] = append(waits[waiter], d)
					mu.Unlock()
					// Time "passes": every pause is over.
					keys, err := c.Keys(ctx, prefix+"pause:*").Result()
					if err != nil || len(keys) == 0 {
						return err
					}
					return c.Del(ctx, keys...).Err()
				}}
			srv := testutil.NewServer(t)
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/slow-down" {
					w.Header().Set("Retry-After", "4")
					w.WriteHeader(http.StatusTooManyRequests)
					return
				}
				w.Write([]byte(`{"ok":true}`))
			})
			clients := map[string]*http.Client{}
			for _, id := range []string{"ca_1", "ca_2"} {
				srv.AddAccount(testutil.Account{ID: id, Toolkit: "github", AuthScheme: credentials.OAuth2,
					Val: credentials.Val{AccessToken: "tok"}, Handler: h})
				tr := srv.Transport()
				tr.ConnectedAccountID = id
				clients[id] = &http.Client{Transport: ratelimit.New(tr, l)}
			}
			if tc.fault != nil {
				srv.Inject(*tc.fault)
			}
			get := func(id, path string) int {
				t.Helper()
				waiter = id
				resp, err := clients[id].Get("https://api.github.com" + path)
				if err != nil {
					return 0
				}
				resp.Body.Close()
				return resp.StatusCode
			}
			if status := get("ca_1", tc.path); status == 200 {
				t.Fatalf("ca_1 first call: %d, want a 429", status)
			}
			if status := get("ca_2", "/x"); status != 200 {
				t.Fatalf("ca_2: %d", status)
			}
			if status := get("ca_1", "/x"); status != 200 {
				t.Fatalf("ca_1: %d", status)
			}
			mu.Lock()
			defer mu.Unlock()
			if w := waits["ca_2"]; len(w) != 0 {
				t.Errorf("ca_2 waited %v after ca_1's 429: its Transport shares ca_1's key", w)
			}
			if w := waits["ca_1"]; len(w) != 1 || w[0] < tc.min || w[0] > tc.max {
				t.Errorf("ca_1 waited %v, want one wait in [%v, %v]", w, tc.min, tc.max)
			}
		})
	}
}
