package redislimit

import (
	"io"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/middleware/ratelimit"
	"github.com/composiohttp/composiohttp/testutil"
)

// TestOrgStoreTwoReplicas: two replicas, each with its own OrgLimiter and
// Redis client but one OrgStore key, push 240 calls (2 goroutines each)
// at the fake's limit of 60 a minute: together they stay under it, with
// zero 429s. The synctest bubble's clock makes the minutes instant; the
// state lives in a real redis-server.
func TestOrgStoreTwoReplicas(t *testing.T) {
	t.Parallel()
	opts := redisOptions(t)
	synctest.Test(t, func(t *testing.T) {
		s := testutil.NewUnstartedServer(testutil.WithOrgLimit(60, time.Minute))
		s.URL = "http://composio.test"
		defer s.Close()
		s.AddAccount(testutil.Account{ID: "ca_1", AuthScheme: credentials.NoAuth,
			Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })})
		key := "org:" + t.Name()
		var clients []*http.Client
		var limiters []*ratelimit.OrgLimiter
		for range 2 {
			c := redis.NewClient(opts)
			defer c.Close()
			org := &ratelimit.OrgLimiter{Store: &OrgStore{Client: c, Key: key}}
			tr := s.InProcessTransport()
			tr.ConnectedAccountID = "ca_1"
			tr.Base = org.Transport(tr.Base)
			clients = append(clients, &http.Client{Transport: tr})
			limiters = append(limiters, org)
		}
		start := time.Now()
		var wg sync.WaitGroup
		for i := range 4 {
			c := clients[i%2]
			wg.Go(func() {
				for range 60 {
					resp, err := c.Get("https://api.example.com/x")
					if err != nil {
						t.Errorf("call: %v", err)
						continue
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			})
		}
		wg.Wait()
		perWindow := map[time.Time]int{}
		for _, r := range s.Requests() {
			if r.Status == http.StatusTooManyRequests {
				t.Errorf("a 429 at %v", r.Time.Sub(start))
			}
			perWindow[r.Time.Truncate(time.Minute)]++
		}
		for w, n := range perWindow {
			if n > 60 {
				t.Errorf("window %v: %d calls", w, n)
			}
		}
		if n := len(s.Requests()); n != 240 {
			t.Errorf("%d calls, want 240", n)
		}
		if st := limiters[0].State(); !st.Known || st.Limit != 60 || st.Window != time.Minute || st.InFlight != 0 {
			t.Errorf("shared state %+v", st)
		}
	})
}
