package retry

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Defaults of Budget.
const (
	// DefaultBudgetRatio: retries may be at most 10% of the calls.
	DefaultBudgetRatio = 0.1
	// DefaultBudgetWindow is the sliding window over which calls and
	// retries are counted.
	DefaultBudgetWindow = 10 * time.Second
	// DefaultBudgetMinRetries is the floor of retries a Budget allows per
	// Window whatever the traffic, when Budget.MinRetries is 0.
	DefaultBudgetMinRetries = 10
	// budgetBuckets is the window's resolution.
	budgetBuckets = 10
)

// ErrBudgetExhausted matches (errors.Is) the failure a call returns when it
// could have been retried but the retry budget was spent.
var ErrBudgetExhausted = errors.New("retry: retry budget exhausted")

// BudgetError is the original failure of a call that the retry budget kept
// from being retried. It matches ErrBudgetExhausted and unwraps to the
// original error, so errors.As and errors.Is see both.
type BudgetError struct {
	// Err is the failure of the last attempt.
	Err error
}

func (e *BudgetError) Error() string {
	if e.Err == nil { // built by hand
		return "retry: retry budget exhausted"
	}
	return "retry: retry budget exhausted; " + e.Err.Error()
}

// Is makes errors.Is(err, ErrBudgetExhausted) true.
func (e *BudgetError) Is(target error) bool { return target == ErrBudgetExhausted }

// Unwrap returns the original failure.
func (e *BudgetError) Unwrap() error { return e.Err }

// Budget caps retries as a share of recent calls, so that an outage is not
// amplified by retries: over the last Window, retries may be at most
// max(Ratio × calls, MinRetries). Share one Budget among all the
// retriers of a service (all tenants) with WithBudget. A call counts once,
// when it is first sent; each retry counts when it is allowed.
//
// Set the fields before first use and do not change them after. It is
// safe for concurrent use. The zero value uses the defaults: 10% of the
// calls of the last 10 s, and at least 10 retries in that window, so that
// a quiet service (or a test) can still retry its first call's 429.
type Budget struct {
	// Ratio is the share of calls that may be retries. Default
	// DefaultBudgetRatio.
	Ratio float64
	// MinRetries are allowed per Window whatever the traffic: the cap is
	// max(Ratio × calls, MinRetries), so the floor matters only while the
	// service is quiet and never lifts the share under load. Default
	// DefaultBudgetMinRetries (10); a negative value allows none, which
	// makes a service with fewer than 1/Ratio calls in the Window retry
	// nothing.
	MinRetries int
	// Window is the sliding window. Default DefaultBudgetWindow.
	Window time.Duration
	// Now replaces time.Now. Tests set it.
	Now func() time.Time
	// Store, if set, keeps the counts instead of this Budget, so that
	// replicas share one budget (redisbudget.Store). A store that fails
	// loses the call's count, or lets the retry through. A retrier
	// passes the call's context to a ContextBudgetStore.
	Store BudgetStore

	mu      sync.Mutex
	buckets [budgetBuckets]struct {
		start          int64 // bucket start, UnixNano / bucket width
		calls, retries int
	}
}

func (b *Budget) width() time.Duration {
	w := b.Window
	if w <= 0 {
		w = DefaultBudgetWindow
	}
	return max(w/budgetBuckets, 1)
}

// BudgetStore keeps a Budget's counts in BudgetBuckets buckets of
// Window/BudgetBuckets, numbered by time (UnixNano / bucket width).
// Implementations must be safe for concurrent use.
type BudgetStore interface {
	// Call counts a call in bucket n.
	Call(n int64) error
	// Retry counts a retry in bucket n if the buckets n-BudgetBuckets+1
	// to n hold retries+1 ≤ max(ratio × calls, minRetries), and reports
	// whether it did; one atomic step.
	Retry(n int64, ratio float64, minRetries int) (bool, error)
}

// ContextBudgetStore is a BudgetStore whose operations take the context
// of the call they count (redisbudget.Store is one): the retrier passes
// it, so that the caller's deadline bounds them. A Budget uses these
// methods instead of Call and Retry when its Store has them.
type ContextBudgetStore interface {
	BudgetStore
	// CallContext is Call under ctx.
	CallContext(ctx context.Context, n int64) error
	// RetryContext is Retry under ctx.
	RetryContext(ctx context.Context, n int64, ratio float64, minRetries int) (bool, error)
}

// BudgetBuckets is the number of buckets a Budget's window is cut into.
const BudgetBuckets = budgetBuckets

func (b *Budget) bucketNumber() int64 {
	now := time.Now
	if b.Now != nil {
		now = b.Now
	}
	return now().UnixNano() / int64(b.width())
}

// bucket returns the current bucket, cleared if stale. b.mu is held.
func (b *Budget) bucket() int {
	n := b.bucketNumber()
	i := int(n % budgetBuckets)
	if b.buckets[i].start != n {
		b.buckets[i].start, b.buckets[i].calls, b.buckets[i].retries = n, 0, 0
	}
	return i
}

// totals sums the buckets of the window. b.mu is held.
func (b *Budget) totals(cur int) (calls, retries int) {
	n := b.buckets[cur].start
	for _, bk := range b.buckets {
		if n-bk.start < budgetBuckets {
			calls += bk.calls
			retries += bk.retries
		}
	}
	return calls, retries
}

// Call records a call sent for the first time.
func (b *Budget) Call() { b.call(context.Background()) }

// call is Call for a call whose context is ctx: a ContextBudgetStore
// gets it.
func (b *Budget) call(ctx context.Context) {
	if cs, ok := b.Store.(ContextBudgetStore); ok {
		_ = cs.CallContext(ctx, b.bucketNumber())
		return
	}
	if b.Store != nil {
		_ = b.Store.Call(b.bucketNumber())
		return
	}
	b.mu.Lock()
	b.buckets[b.bucket()].calls++
	b.mu.Unlock()
}

// Retry takes one retry from the budget and reports whether it was there.
func (b *Budget) Retry() bool { return b.retry(context.Background()) }

// retry is Retry for a call whose context is ctx: a ContextBudgetStore
// gets it.
func (b *Budget) retry(ctx context.Context) bool {
	ratio := b.Ratio
	if ratio <= 0 {
		ratio = DefaultBudgetRatio
	}
	minRetries := b.MinRetries
	switch {
	case minRetries == 0:
		minRetries = DefaultBudgetMinRetries
	case minRetries < 0:
		minRetries = 0
	}
	if cs, ok := b.Store.(ContextBudgetStore); ok {
		ok, err := cs.RetryContext(ctx, b.bucketNumber(), ratio, minRetries)
		return ok || err != nil
	}
	if b.Store != nil {
		ok, err := b.Store.Retry(b.bucketNumber(), ratio, minRetries)
		return ok || err != nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	i := b.bucket()
	calls, retries := b.totals(i)
	if float64(retries+1) > max(ratio*float64(calls), float64(minRetries)) {
		return false
	}
	b.buckets[i].retries++
	return true
}

// Totals returns the calls and retries counted in the current window (by
// this Budget, not its Store).
func (b *Budget) Totals() (calls, retries int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.totals(b.bucket())
}

// WithBudget caps this retrier's retries with b, shared with any other
// retrier given the same Budget. When a call could be retried but the
// budget is spent, the last failure is returned: an error wrapped in a
// *BudgetError (errors.Is(err, ErrBudgetExhausted)), or the upstream's
// response as is (WithOnBudgetExhausted reports it). Default: no budget.
func WithBudget(b *Budget) Option { return func(c *config) { c.budget = b } }

// WithOnBudgetExhausted calls f, from the goroutine of the call, when the
// budget keeps a call from being retried; ev describes the retry that was
// not made.
func WithOnBudgetExhausted(f func(ev Event)) Option {
	return func(c *config) { c.onBudgetExhausted = f }
}
