// Package bounded runs an operation that may not honour its context so
// that the caller gets control back when the context ends anyway.
//
// The Redis middleware need it: a go-redis client without
// ContextTimeoutEnabled blocks in a socket read for its ReadTimeout (3s by
// default, then retries) whatever the context says, and its dial retries
// can use up the caller's whole deadline. The caller's deadline must bound
// the call whatever options the user gave the client.
package bounded

import (
	"context"
	"fmt"
	"time"
)

// Budget returns how long an operation may take under ctx: at most max,
// and at most half of the time left before ctx's deadline, so that a
// caller that goes on without the operation (a rate limiter failing open,
// a cache miss) still has time for the call itself. It returns 0 or less
// when ctx has no time left.
func Budget(ctx context.Context, max time.Duration) time.Duration {
	dl, ok := ctx.Deadline()
	if !ok {
		return max
	}
	left := time.Until(dl)
	if left <= 0 {
		return 0
	}
	return min(max, left/2)
}

// Do calls f in its own goroutine with a context that ends when budget
// has passed or ctx ends, and returns f's results, or, if that context
// ends before f returns, a zero T and an error without waiting for f: ctx's
// error if ctx ended, else an error matching context.DeadlineExceeded that
// says the budget ran out. f keeps running until it returns; its results
// are then dropped. f must not write to anything the caller reads.
func Do[T any](ctx context.Context, budget time.Duration, f func(context.Context) (T, error)) (T, error) {
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	if budget <= 0 {
		return zero, fmt.Errorf("no time left for the operation: %w", context.DeadlineExceeded)
	}
	octx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1) // buffered: an abandoned f still returns
	go func() {
		v, err := f(octx)
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-octx.Done():
		select {
		case r := <-done: // f and the budget ended together: keep f's answer
			return r.v, r.err
		default:
		}
		if err := ctx.Err(); err != nil {
			return zero, err
		}
		return zero, fmt.Errorf("no answer within %v: %w", budget, context.DeadlineExceeded)
	}
}
