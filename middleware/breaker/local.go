package breaker

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"
)

// Defaults of Settings.
const (
	// DefaultConsecutiveFailures is how many failures in a row open a
	// breaker when Settings.ReadyToTrip is nil.
	DefaultConsecutiveFailures = 5
	// DefaultTimeout is how long a breaker stays open before it
	// half-opens.
	DefaultTimeout = 30 * time.Second
	// DefaultMaxProbes is how many calls a half-open breaker lets
	// through, and how many successes close it.
	DefaultMaxProbes = 1
	// DefaultMaxKeys bounds the breakers a Local, or a
	// redisbreaker.Group, keeps in process.
	DefaultMaxKeys = 10000
)

// Settings configures the breakers of a Local or a redisbreaker.Group. The
// zero value uses the defaults.
type Settings struct {
	// ReadyToTrip is called with the counts after each failure of a
	// closed breaker; true opens it. Default: DefaultConsecutiveFailures
	// consecutive failures.
	ReadyToTrip func(Counts) bool
	// Interval is the cyclic period after which a closed breaker clears
	// its counts. Default 0: never (the default ReadyToTrip only looks at
	// consecutive failures, which any success resets).
	Interval time.Duration
	// Timeout is how long a breaker stays open before it half-opens.
	// Default DefaultTimeout.
	Timeout time.Duration
	// MaxProbes is how many calls a half-open breaker lets through at
	// once, and how many successes in a row close it. Default
	// DefaultMaxProbes.
	MaxProbes uint32
	// OnStateChange, if set, is called when a breaker changes state,
	// with its key. It runs while the breaker is locked: it must not
	// call into the breaker, and should return quickly.
	OnStateChange func(key string, from, to State)
	// MaxKeys bounds the breakers kept in process. Beyond it a Local
	// drops closed breakers; a redisbreaker.Group drops the least
	// recently used, whose state stays in Redis. Default DefaultMaxKeys.
	MaxKeys int
}

// Gobreaker returns the gobreaker.Settings for the breaker of key: the
// defaults filled in, and onOpen (if not nil) called, after
// OnStateChange, with the time at which a breaker that opens will
// half-open.
func (s Settings) Gobreaker(key string, onOpen func(retryAt time.Time)) gobreaker.Settings {
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	probes := s.MaxProbes
	if probes == 0 {
		probes = DefaultMaxProbes
	}
	trip := s.ReadyToTrip
	if trip == nil {
		trip = func(c Counts) bool { return c.ConsecutiveFailures >= DefaultConsecutiveFailures }
	}
	hook := s.OnStateChange
	return gobreaker.Settings{
		Name:        key,
		MaxRequests: probes,
		Interval:    s.Interval,
		Timeout:     timeout,
		ReadyToTrip: trip,
		OnStateChange: func(name string, from, to State) {
			if hook != nil {
				hook(name, from, to)
			}
			if to == StateOpen && onOpen != nil {
				onOpen(time.Now().Add(timeout))
			}
		},
		IsSuccessful: func(err error) bool { return err == nil },
		IsExcluded:   func(err error) bool { return err == errIgnore },
	}
}

// Errors handed to gobreaker for the outcomes.
var (
	errFailure = errors.New("breaker: failure")
	errIgnore  = errors.New("breaker: ignored")
)

// OutcomeError is the error gobreaker is told for an outcome: nil for
// Success, and sentinels that Settings.Gobreaker's IsSuccessful and
// IsExcluded recognise for Failure and Ignore.
func OutcomeError(o Outcome) error {
	switch o {
	case Failure:
		return errFailure
	case Ignore:
		return errIgnore
	}
	return nil
}

// Local is a Group keeping one gobreaker two-step breaker per key in
// process. Make it with NewLocal; its zero value is NewLocal(Settings{})
// (the defaults). It is safe for concurrent use.
type Local struct {
	settings Settings
	maxKeys  int

	mu   sync.RWMutex
	keys map[string]*localBreaker
}

type localBreaker struct {
	key     string
	cb      *gobreaker.TwoStepCircuitBreaker[struct{}]
	retryAt atomic.Int64 // UnixNano when an open breaker half-opens
}

// NewLocal returns a Local whose breakers use s.
func NewLocal(s Settings) *Local {
	max := s.MaxKeys
	if max <= 0 {
		max = DefaultMaxKeys
	}
	return &Local{settings: s, maxKeys: max, keys: make(map[string]*localBreaker)}
}

// Allow implements Group.
func (l *Local) Allow(_ context.Context, key string) (func(Outcome), error) {
	b := l.breaker(key)
	done, err := b.cb.Allow()
	if err != nil {
		return nil, b.openError(err)
	}
	return func(o Outcome) { done(OutcomeError(o)) }, nil
}

// State returns the state of key's breaker (StateClosed for a key never
// seen).
func (l *Local) State(key string) State {
	l.mu.RLock()
	b := l.keys[key]
	l.mu.RUnlock()
	if b == nil {
		return StateClosed
	}
	return b.cb.State()
}

// Len returns the number of breakers kept.
func (l *Local) Len() int {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return len(l.keys)
}

func (b *localBreaker) openError(err error) error {
	e := &OpenError{Key: b.key, State: StateOpen}
	if errors.Is(err, gobreaker.ErrTooManyRequests) {
		e.State = StateHalfOpen
	} else if at := b.retryAt.Load(); at != 0 {
		e.RetryAt = time.Unix(0, at)
	}
	return e
}

func (l *Local) breaker(key string) *localBreaker {
	l.mu.RLock()
	b := l.keys[key]
	l.mu.RUnlock()
	if b != nil {
		return b
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if b = l.keys[key]; b != nil {
		return b
	}
	if l.keys == nil { // the zero value
		l.keys = make(map[string]*localBreaker)
	}
	maxKeys := l.maxKeys
	if maxKeys <= 0 {
		maxKeys = DefaultMaxKeys
	}
	if len(l.keys) >= maxKeys {
		for k, old := range l.keys {
			if old.cb.State() == StateClosed {
				delete(l.keys, k)
				if len(l.keys) < maxKeys {
					break
				}
			}
		}
	}
	b = &localBreaker{key: key}
	b.cb = gobreaker.NewTwoStepCircuitBreaker[struct{}](l.settings.Gobreaker(key, func(at time.Time) { b.retryAt.Store(at.UnixNano()) }))
	l.keys[key] = b
	return b
}
