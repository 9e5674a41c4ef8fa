package ctxsleep

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestSleep(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	if err := Sleep(context.Background(), 0); err != nil {
		t.Fatalf("zero: %v", err)
	}
	if err := Sleep(context.Background(), time.Nanosecond); err != nil {
		t.Fatalf("1ns: %v", err)
	}
}

func TestOr(t *testing.T) {
	t.Parallel()
	called := false
	own := func(context.Context, time.Duration) error { called = true; return nil }
	if err := Or(own)(context.Background(), time.Hour); err != nil || !called {
		t.Fatalf("Or(own): err %v, called %v", err, called)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Or(nil)(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("Or(nil) is not Sleep: %v", err)
	}
}

func TestOutlasts(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ctx, cancel := context.WithDeadline(context.Background(), now.Add(time.Second))
	defer cancel()
	for _, tc := range []struct {
		name string
		ctx  context.Context
		d    time.Duration
		want bool
	}{
		{"no deadline", context.Background(), time.Hour, false},
		{"ends before", ctx, time.Second - 1, false},
		{"ends at the deadline", ctx, time.Second, false},
		{"ends after", ctx, time.Second + 1, true},
	} {
		if got := Outlasts(tc.ctx, now, tc.d); got != tc.want {
			t.Errorf("%s: Outlasts = %v, want %v", tc.name, got, tc.want)
		}
	}
}
