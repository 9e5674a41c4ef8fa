//go:build unix

package redisbudget_test

import (
	"io"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/internal/redistest"
	"github.com/composiohttp/composiohttp/middleware/retry"
	"github.com/composiohttp/composiohttp/middleware/retry/redisbudget"
	"github.com/composiohttp/composiohttp/testutil"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestSharedBudget: two replicas, each with its own retrier, Budget and
// Redis client. Replica A's 200 calls succeed; replica B's 20 calls meet an
// upstream answering 503. With one Store key, B may spend the budget that
// all 220 calls earned (10%: 22 retries); with a key each, only what its
// own 20 calls earned (2).
func TestSharedBudget(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	tests := []struct {
		name             string
		shared           bool
		minRetB, maxRetB int
	}{
		{"one key", true, 10, 22},
		{"a key each", false, 1, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := testutil.NewUnstartedServer()
				s.URL = "http://composio.test"
				defer s.Close()
				s.AddAccount(testutil.Account{ID: "ca_ok", AuthScheme: credentials.NoAuth,
					Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})})
				s.AddAccount(testutil.Account{ID: "ca_down", AuthScheme: credentials.NoAuth,
					Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) })})
				var rts []http.RoundTripper
				for i, account := range []string{"ca_ok", "ca_down"} {
					c := redis.NewClient(&redis.Options{Addr: srv.Addr})
					defer c.Close()
					key := "budget:" + t.Name()
					if !tt.shared {
						key += string(rune('a' + i))
					}
					tr := s.InProcessTransport()
					tr.ConnectedAccountID = account
					// MinRetries -1: no floor, the shares alone.
					rts = append(rts, retry.New(tr, retry.WithBudget(&retry.Budget{MinRetries: -1, Store: &redisbudget.Store{Client: c, Key: key}})))
				}
				send := func(rt http.RoundTripper, n int) {
					for range n {
						req, _ := http.NewRequest("GET", "https://api.example.com/x", nil)
						if resp, err := rt.RoundTrip(req); err == nil {
							io.Copy(io.Discard, resp.Body)
							resp.Body.Close()
						}
						time.Sleep(time.Millisecond)
					}
				}
				send(rts[0], 200)
				send(rts[1], 20)
				retriesB := 0
				for _, r := range s.Requests() {
					if r.Envelope.ConnectedAccountID == "ca_down" {
						retriesB++
					}
				}
				retriesB -= 20
				if retriesB < tt.minRetB || retriesB > tt.maxRetB {
					t.Errorf("replica B retried %d times, want %d to %d", retriesB, tt.minRetB, tt.maxRetB)
				}
			})
		})
	}
	if _, err := (&redisbudget.Store{}).Retry(1, 0.1, 0); err != redisbudget.ErrNoClient {
		t.Errorf("no client: %v", err)
	}
}
