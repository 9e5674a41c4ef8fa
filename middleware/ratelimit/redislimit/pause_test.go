package redislimit

import (
	"context"
	"testing"
	"time"

	"github.com/go-redis/redis_rate/v10"
)

// A shorter Pause never cuts a longer one short, as with ratelimit.Local.
func TestPauseKeepsTheLonger(t *testing.T) {
	t.Parallel()
	l := &Limiter{Client: newClient(t), Limit: redis_rate.PerSecond(100), Prefix: uniquePrefix(t)}
	ctx := context.Background()
	for _, step := range []struct {
		pause    time.Duration
		min, max time.Duration // the wait Allow then asks for
	}{
		{30 * time.Second, 25 * time.Second, 30 * time.Second},
		{5 * time.Second, 25 * time.Second, 30 * time.Second}, // shorter: kept 30s
		{time.Minute, 55 * time.Second, time.Minute},          // longer: extended
	} {
		if err := l.Pause(ctx, "k", step.pause); err != nil {
			t.Fatal(err)
		}
		if d, err := l.Allow(ctx, "k"); err != nil || d < step.min || d > step.max {
			t.Fatalf("after Pause(%v): Allow = %v, %v; want a wait in [%v, %v]", step.pause, d, err, step.min, step.max)
		}
	}
}
