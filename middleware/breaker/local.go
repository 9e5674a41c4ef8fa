package breaker

import (
	"container/list"
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
	// MaxKeys bounds the breakers kept in process, whatever their
	// state. Beyond it a Local drops the least recently used open
	// breaker whose Timeout has passed (not a half-open one), else the
	// least recently used closed breaker, or if none is closed the least recently used open one,
	// whose key's next call starts closed again (see "How many keys" on
	// Local); a redisbreaker.Group drops the least recently used, whose
	// state stays in Redis. Default DefaultMaxKeys.
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
//
// # How many keys
//
// A Local keeps at most Settings.MaxKeys breakers (default
// DefaultMaxKeys), whatever their state: keys are as many as the hosts,
// toolkits or accounts calls go to, and a hostile or broken upstream can
// make many of them fail (a redirect to ever new hosts, many accounts
// whose tokens were revoked), so a bound that spared open breakers would
// not bound memory. Making a breaker beyond the bound first drops the
// least recently used open breaker if its Timeout has passed (its key is
// likely gone: it would half-open on its next call anyway) and it has not
// half-opened (a half-open breaker's key is live, its probe maybe in
// flight), else the
// least recently used closed breaker, and only when none is closed the
// least recently used open or half-open one. A call, refused or not, uses
// its key's breaker. (Dropping closed breakers before expired open ones
// let two live keys take turns in the last free slot, each dropping the
// other's counts, so that a failing key never tripped.)
//
// Dropping a closed breaker loses its counts of the current generation
// (a run of failures short of ReadyToTrip). Dropping an open or half-open
// breaker forgets that its key failed: the next call for the key gets a
// new, closed breaker and goes through, so a failing upstream gets calls
// again until the new breaker's ReadyToTrip opens it (by default
// DefaultConsecutiveFailures of them). That is the
// price of bounded memory, and it is paid only when more than MaxKeys
// keys are in use at once, most of them failing: remembering every open
// key instead would let the failing keys grow the process without limit.
// A call in flight when its breaker is dropped records its outcome on the
// dropped breaker, which no later call sees. (redisbreaker.Group drops
// breakers from the process too, but loses nothing: a dropped key's state
// is read again from Redis when the key is next used.)
//
// An open breaker whose Timeout has passed counts as open until a call
// or State looks at it and half-opens it; for dropping, its Timeout
// having passed is enough.
type Local struct {
	settings Settings
	maxKeys  int

	mu     sync.Mutex
	keys   map[string]*localBreaker
	closed list.List // of *localBreaker, closed, most recently used first
	open   list.List // of *localBreaker, open or half-open, most recently used first
}

type localBreaker struct {
	key     string
	cb      *gobreaker.TwoStepCircuitBreaker[struct{}]
	retryAt atomic.Int64 // UnixNano when an open breaker half-opens

	// Guarded by Local.mu.
	el       *list.Element // in Local.open if open, else Local.closed; nil once dropped
	open     bool
	halfOpen bool // a call or State half-opened it since it last opened
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
	l.mu.Lock()
	b := l.keys[key]
	l.mu.Unlock()
	if b == nil {
		return StateClosed
	}
	return b.cb.State()
}

// Len returns the number of breakers kept.
func (l *Local) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.keys)
}

// expired reports whether b, open, would half-open at now: not if it has
// half-opened already (its key is live, its probe maybe in flight).
// Local.mu is held.
func (b *localBreaker) expired(now time.Time) bool {
	at := b.retryAt.Load()
	return !b.halfOpen && at != 0 && now.UnixNano() >= at
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

// breaker returns key's breaker, made if not kept, and marks it the most
// recently used. Making one beyond maxKeys drops a breaker as "How many
// keys" on Local says. No breaker is called while l.mu is held: a
// breaker calls l.moved, which takes l.mu, while it holds its own lock.
func (l *Local) breaker(key string) *localBreaker {
	l.mu.Lock()
	defer l.mu.Unlock()
	if b := l.keys[key]; b != nil {
		l.list(b.open).MoveToFront(b.el)
		return b
	}
	if l.keys == nil { // the zero value
		l.keys = make(map[string]*localBreaker)
	}
	maxKeys := l.maxKeys
	if maxKeys <= 0 {
		maxKeys = DefaultMaxKeys
	}
	for len(l.keys) >= maxKeys {
		// The least recently used open breaker goes first if its Timeout
		// has passed (its key is likely gone: it would half-open on its
		// next call anyway) and it has not half-opened, then the least recently used closed one,
		// then the least recently used open one. retryAt, not the
		// breaker's State, says so: no breaker is called under l.mu.
		el := l.open.Back()
		if el == nil || !el.Value.(*localBreaker).expired(time.Now()) {
			if c := l.closed.Back(); c != nil {
				el = c
			}
		}
		old := el.Value.(*localBreaker)
		l.list(old.open).Remove(el)
		old.el = nil
		delete(l.keys, old.key)
	}
	b := &localBreaker{key: key}
	gs := l.settings.Gobreaker(key, func(at time.Time) { b.retryAt.Store(at.UnixNano()) })
	hook := gs.OnStateChange
	gs.OnStateChange = func(name string, from, to State) {
		hook(name, from, to)
		l.moved(b, to)
	}
	b.cb = gobreaker.NewTwoStepCircuitBreaker[struct{}](gs)
	b.el = l.closed.PushFront(b)
	l.keys[key] = b
	return b
}

// list returns the list of open (or half-open) breakers, or of closed
// ones.
func (l *Local) list(open bool) *list.List {
	if open {
		return &l.open
	}
	return &l.closed
}

// moved puts b, whose breaker changed state to to, at the front of the
// list of open breakers or of closed ones, unless b was dropped. gobreaker
// calls it (through OnStateChange) while it holds b's lock.
func (l *Local) moved(b *localBreaker, to State) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if b.el == nil {
		return
	}
	open := to != StateClosed
	b.halfOpen = to == StateHalfOpen
	l.list(b.open).Remove(b.el)
	b.open = open
	b.el = l.list(open).PushFront(b)
}
