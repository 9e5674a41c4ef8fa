//go:build unix

package redislimit

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-redis/redis_rate/v10"

	"github.com/composiohttp/composiohttp/internal/redistest"
)

// The caller's deadline bounds Wait whatever go-redis options the user
// chose, here go-redis's defaults (5 dial retries, 3s ReadTimeout, context
// deadlines ignored by socket reads), when Redis is killed or frozen.
//
// Promptness is asserted without timing: each call gets a 1s deadline,
// and the test checks that Wait returned while that deadline had not yet
// passed (ctx.Err() == nil), with FailOpen letting the call through. The
// Limiter's OpTimeout is 100ms, leaving 900ms of slack for a loaded
// machine. Before the per-operation budget a frozen Redis held each call
// for go-redis's 3s ReadTimeout, and a killed one spent about 1.8s per call
// on dial retries, so that fail-open did not open.
func TestDeadlineBoundsWaitWhenRedisFails(t *testing.T) {
	t.Parallel()
	for _, c := range redistest.Failures {
		for _, failOpen := range []bool{true, false} {
			name := c.Name + "/fail closed"
			if failOpen {
				name = c.Name + "/fail open"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				srv := redistest.Start(t)
				client := srv.Client(t) // go-redis defaults
				l := &Limiter{Client: client, Limit: redis_rate.PerSecond(1000), Prefix: uniquePrefix(t), FailOpen: failOpen, OpTimeout: 100 * time.Millisecond}
				if err := l.Wait(context.Background(), "k"); err != nil {
					t.Fatalf("before breaking Redis: %v", err)
				}
				c.Break(srv)
				for i := range 5 {
					ctx, cancel := context.WithTimeout(context.Background(), time.Second)
					err := l.Wait(ctx, "k")
					late := ctx.Err()
					cancel()
					if late != nil {
						t.Fatalf("call %d: Wait returned after the caller's 1s deadline (err %v)", i, err)
					}
					switch {
					case failOpen && err != nil:
						t.Fatalf("call %d: fail open did not open: %v", i, err)
					case !failOpen && (err == nil || !strings.HasPrefix(err.Error(), "redislimit: ")):
						t.Fatalf("call %d: fail closed: err = %v, want a redislimit error", i, err)
					}
				}
				// Pause, called after a 429, is bounded too.
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				defer cancel()
				if err := l.Pause(ctx, "k", time.Second); err == nil || ctx.Err() != nil {
					t.Errorf("Pause: err %v, caller's context %v; want a Redis error before the deadline", err, ctx.Err())
				}
			})
		}
	}
}

// An ended context still fails, FailOpen or not, and without asking Redis.
func TestDeadlineEndedFailsEvenOpen(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	client := srv.Client(t)
	srv.Freeze()
	l := &Limiter{Client: client, Limit: redis_rate.PerSecond(1000), Prefix: uniquePrefix(t), FailOpen: true}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.Wait(ctx, "k"); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}
