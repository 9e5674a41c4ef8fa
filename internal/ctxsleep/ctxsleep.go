// Package ctxsleep holds the one real sleep the middleware and the fake proxy
// use when no sleep function is injected, and the one rule for a wait that
// would outlast the context's deadline (Outlasts).
package ctxsleep

import (
	"context"
	"time"
)

// Sleep waits for d or until ctx ends, whichever comes first, and returns
// ctx.Err() in the second case. A d <= 0 returns ctx.Err() at once.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Or returns sleep, or Sleep when sleep is nil: the default of the
// middleware's injectable Sleep fields and options.
func Or(sleep func(context.Context, time.Duration) error) func(context.Context, time.Duration) error {
	if sleep == nil {
		return Sleep
	}
	return sleep
}

// Outlasts reports whether a wait of d from now would end after ctx's
// deadline (a deadline exactly at its end is not outlasted). The rate
// limiters then fail at once (a *ratelimit.LimitError) and retry returns
// the last reply, rather than wait for a call that cannot go out in time.
func Outlasts(ctx context.Context, now time.Time, d time.Duration) bool {
	dl, ok := ctx.Deadline()
	return ok && now.Add(d).After(dl)
}
