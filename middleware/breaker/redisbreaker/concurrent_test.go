//go:build unix

package redisbreaker_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/composiohttp/composiohttp/internal/redistest"
	"github.com/composiohttp/composiohttp/middleware/breaker"
	"github.com/composiohttp/composiohttp/middleware/breaker/redisbreaker"
)

// TestConcurrentOutcomesAllCounted: failures recorded at the same time
// for one key, by one replica or by two, are all counted, and
// DefaultConsecutiveFailures of them open the breaker. gobreaker v2.4.0's
// distributed Execute reads the shared state before it takes its lock:
// two recordings that read it at once each wrote back "one more failure
// than I read", and counts were lost (the breaker stayed closed).
// OpTimeout is a minute, so that each recording function returns once
// its update is done.
func TestConcurrentOutcomesAllCounted(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	prefix := "test:" + t.Name() + ":"
	var groups []*redisbreaker.Group
	for range 2 {
		client := srv.Client(t)
		groups = append(groups, &redisbreaker.Group{Client: client, Prefix: prefix, FailClosed: true, OpTimeout: time.Minute})
	}
	bg := context.Background()
	for _, replicas := range []int{1, 2} {
		for round := range 5 {
			key := fmt.Sprintf("replicas%d-round%d", replicas, round)
			var dones []func(breaker.Outcome)
			for i := range breaker.DefaultConsecutiveFailures {
				done, err := groups[i%replicas].Allow(bg, key)
				if err != nil {
					t.Fatal(err)
				}
				dones = append(dones, done)
			}
			var wg sync.WaitGroup
			for _, done := range dones {
				wg.Go(func() { done(breaker.Failure) })
			}
			wg.Wait()
			if st, err := groups[0].State(key); err != nil || st != breaker.StateOpen {
				t.Fatalf("%s: after %d concurrent failures: %v, %v; want open", key, breaker.DefaultConsecutiveFailures, st, err)
			}
		}
	}
}
