package redislimit

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
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

// FailOpen lets calls through when Redis fails, but not a caller whose
// context has ended.
func TestFailOpenCanceled(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer c.Close()
	l := &Limiter{Client: c, Limit: redis_rate.PerSecond(1), FailOpen: true}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.Wait(ctx, "k"); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled caller: err = %v, want context.Canceled", err)
	}
	if err := l.Wait(context.Background(), "k"); err != nil {
		t.Errorf("fail open: err = %v", err)
	}
}
