//go:build unix

package redisbudget_test

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/composiohttp/composiohttp/internal/redistest"
	"github.com/composiohttp/composiohttp/middleware/retry"
	"github.com/composiohttp/composiohttp/middleware/retry/redisbudget"
)

// OpTimeout bounds each operation of a Store whatever go-redis options the
// user chose, here go-redis's defaults (5 dial retries, 3s ReadTimeout,
// context deadlines ignored by socket reads), when Redis is killed or
// frozen (SIGSTOP): Call and Retry return within it, Call with the error,
// Retry letting the retry through (retry.Budget's rule for a failing
// store). Promptness is asserted without timing: OpTimeout is 100ms and a
// guard context checks that each operation returned within 1s. Before the
// fix a frozen Redis held every call through the retrier for go-redis's
// 3s ReadTimeout.
func TestOpTimeoutBoundsWhenRedisFails(t *testing.T) {
	t.Parallel()
	for _, c := range redistest.Failures {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			srv := redistest.Start(t)
			client := srv.Client(t) // go-redis defaults
			s := &redisbudget.Store{Client: client, Key: "test:" + t.Name(), OpTimeout: 100 * time.Millisecond}
			if err := s.Call(1); err != nil {
				t.Fatalf("before breaking Redis: %v", err)
			}
			c.Break(srv)
			for _, op := range []struct {
				name string
				run  func() error
			}{
				{"Call", func() error { return s.Call(1) }},
				{"Retry", func() error {
					if _, err := s.Retry(1, 0.1, 10); err != nil {
						return err
					}
					return fmt.Errorf("no error with Redis %s", c.Name)
				}},
			} {
				guard, cancel := context.WithTimeout(context.Background(), time.Second)
				err := op.run()
				late := guard.Err()
				cancel()
				if late != nil {
					t.Errorf("%s returned after 1s with OpTimeout 100ms (err %v)", op.name, err)
				}
				if err == nil {
					t.Errorf("%s: no error with Redis %s", op.name, c.Name)
				}
			}
		})
	}
}

// upstream answers 503 once, then 200, and notes the calls made after
// the caller's context ended.
type upstream struct{ calls, late atomic.Int64 }

func (u *upstream) RoundTrip(r *http.Request) (*http.Response, error) {
	status := http.StatusOK
	if u.calls.Add(1) == 1 {
		status = http.StatusServiceUnavailable
	}
	if r.Context().Err() != nil {
		u.late.Add(1)
	}
	return &http.Response{StatusCode: status, Body: http.NoBody, Request: r}, nil
}

// The caller's deadline bounds the Store's operations a retrier makes
// (retry.ContextBudgetStore), whatever go-redis options the user chose:
// with Redis frozen and an OpTimeout of a minute, a call with a 1s
// deadline that is retried once (Call, then Retry, each lets the call go
// on) returns before that deadline. Before, Budget.Call and Budget.Retry
// had no context, and each waited for go-redis's 3s ReadTimeout.
func TestCallerDeadlineBoundsRetrier(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	client := srv.Client(t) // go-redis defaults
	s := &redisbudget.Store{Client: client, Key: "test:" + t.Name(), OpTimeout: time.Minute}
	if err := s.Call(1); err != nil {
		t.Fatalf("before freezing Redis: %v", err)
	}
	srv.Freeze()
	var next upstream
	rt := retry.New(&next, retry.WithBudget(&retry.Budget{Store: s}),
		retry.WithSleep(func(context.Context, time.Duration) error { return nil }))
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://api.example.com/x", nil)
	resp, err := rt.RoundTrip(req)
	late := ctx.Err()
	if err != nil {
		t.Fatalf("RoundTrip: %v", err)
	}
	resp.Body.Close()
	if late != nil || resp.StatusCode != http.StatusOK || next.calls.Load() != 2 || next.late.Load() != 0 {
		t.Errorf("returned after the deadline: %v; status %d, %d upstream calls (%d late); want 200 after 2 calls in time",
			late != nil, resp.StatusCode, next.calls.Load(), next.late.Load())
	}
}
