// Package redisbreaker is a breaker.Group shared by many replicas through
// Redis, so that they open and close together: each key's breaker is a
// github.com/sony/gobreaker/v2 DistributedCircuitBreaker whose state lives
// in Redis (github.com/redis/go-redis/v9). It is a package of its own so
// that importing breaker does not compile go-redis.
//
// gobreaker's distributed Execute holds a Redis lock for the whole of the
// function it runs. Running the HTTP call inside it would let a single
// call at a time through each breaker across all replicas, so Group does
// not: Allow reads the shared state (DistributedCircuitBreaker.State), the
// call runs unlocked, and its outcome is then recorded through Execute with
// a function that only returns it. A healthy closed breaker (no failure
// since the last success, default ReadyToTrip) costs one Redis GET per
// call; a failure, a probe, or a custom ReadyToTrip adds a short locked
// update (about 4 round trips). Half-open probes are bounded across
// all replicas by a Redis counter (Settings.MaxProbes at once).
//
// Every locked update holds the key's lock from before it reads the
// shared state: gobreaker v2.4.0 reads it before taking its lock, so
// that outcomes recorded at once, by one replica or several, each wrote
// back the state they read plus one, and all but one were lost. The
// Group takes the lock first, so each update sees the one before it.
//
// Replicas' clocks must roughly agree: gobreaker stores the open state's
// expiry as a time. Settings.OnStateChange is called by the replica whose
// update makes the change. A stored state gobreaker cannot use (one
// without buckets, which gobreaker v2.4.0 indexes out of range) is an
// error, never a panic: the outcome is lost, as for any store error.
//
// # How many keys
//
// A Group keyed by tenant (breaker.KeyByAccount) sees as many keys as
// the service has tenants. It keeps at most Settings.MaxKeys breakers in
// process (default breaker.DefaultMaxKeys, the bound of breaker.Local);
// keeping one more drops the least recently used. Dropping loses nothing:
// the local gobreaker object is a cache of its settings. It holds the
// state too (state, generation, counts, expiry), but gobreaker overwrites
// all of it from Redis at the start of every locked operation (State,
// Execute; the Group puts that read under the lock), and Allow reads
// the state from Redis itself; the lock that
// orders those operations is per key in Redis (and per key in the
// Group's store in process), not in the object. A key used again after
// its breaker was dropped gets a new one made from the state in Redis
// (one more GET and one locked read, about 4 round trips), and sees that
// state as before: an open breaker stays open until the same time, and a
// half-open one's probe slots are the same Redis counter. A call in
// flight when its key's breaker is dropped records its outcome through
// the breaker it holds, under the same lock, so its count is not lost.
// The store keeps a key's process-local lock only while a call holds or
// waits for it. A call whose breaker is dropped only costs the next call
// for its key those round trips, so any breaker may be dropped: no entry
// is pinned by a call whose outcome is never recorded.
//
// # What bounds each Redis operation
//
// The caller's deadline bounds Allow whatever options the Redis client
// has. Each Redis operation Allow makes before the call (the GET of the
// shared state; on a key's first use in the process, making its breaker;
// when an open breaker's timeout has passed, gobreaker's locked change to
// half-open; in half-open, taking a probe slot) gets a budget,
// Group.OpTimeout (default DefaultOpTimeout) and at most half the time
// left before the context's deadline, and returns when the budget ends or
// the context is cancelled, even if go-redis does not (a client without
// ContextTimeoutEnabled reads for its full ReadTimeout, 3s by default; dial
// retries can outlast any deadline). A context already ended asks Redis
// nothing. Either way FailClosed decides, as for any other Redis error:
// with FailClosed the call fails with an error wrapping the context's
// error (context.Canceled or context.DeadlineExceeded; a budget that ran
// out matches context.DeadlineExceeded too); without it the call goes on,
// its outcome unrecorded, with time to spare before the deadline (a
// cancelled call then fails in the next RoundTripper, which sees the
// ended context). A probe slot that Redis grants after Allow stopped
// waiting is given back.
//
// The function Allow returns records the outcome after the call, through
// gobreaker's Execute, whose store methods take no context: its Redis
// commands run under OpTimeout alone (the call is over: the caller's
// deadline no longer applies), and the caller waits OpTimeout at most in
// all, whatever the client's options. An update still running then (a
// slow Redis, or another replica holding the breaker's lock, which is
// retried for up to 5s as gobreaker does) goes on in the background: its count lands
// late, or is lost if the update fails. Group.State, which has no
// context, likewise waits OpTimeout at most (twice on a key's first use).
// redis.Options{DialerRetries: 1, MaxRetries: -1, ContextTimeoutEnabled:
// true} with short timeouts also keeps abandoned operations from holding
// the client's connections.
package redisbreaker

import (
	"container/list"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sony/gobreaker/v2"

	"github.com/composiohttp/composiohttp/internal/bounded"
	"github.com/composiohttp/composiohttp/middleware/breaker"
)

// Defaults.
const (
	// DefaultPrefix starts every Redis key the Group uses.
	DefaultPrefix = "composiohttp:breaker:"
	// DefaultOpTimeout bounds each Redis operation when Group.OpTimeout
	// is 0 (see the package doc).
	DefaultOpTimeout = 500 * time.Millisecond
	// DefaultLockWait is how long Lock polls for a lock another
	// replica holds before it reports failure (it is then tried again
	// for up to 5 s in all, as gobreaker does).
	DefaultLockWait = time.Second
	// lockTTL bounds how long a replica that died holding a lock keeps
	// it (gobreaker's own mutex timeout).
	lockTTL = 5 * time.Second
	// stateTTL is how long an idle breaker's state is kept in Redis.
	stateTTL = 24 * time.Hour
	// sharedStateKey is where gobreaker v2.4.0 keeps a breaker's state
	// (DistributedCircuitBreaker.sharedStateKey), read for the open
	// state's expiry.
	sharedStatePrefix = "gobreaker:state:"
)

// Group is a breaker.Group keeping each key's breaker state in Redis. Set
// the fields before first use and do not change them after; it is safe
// for concurrent use.
type Group struct {
	// Client is the Redis client (a *redis.Client, *redis.ClusterClient
	// or *redis.Ring). Required.
	Client redis.UniversalClient
	// Settings configure every breaker. Settings.MaxKeys bounds the
	// breakers kept in process (default breaker.DefaultMaxKeys, as for
	// breaker.Local): beyond it the least recently used one is dropped,
	// and made again from Redis when its key is next used (see "How many
	// keys" in the package doc). In Redis, the state of a breaker idle
	// for 24 hours expires.
	Settings breaker.Settings
	// Prefix starts the Redis keys; replicas sharing breakers use the
	// same. Default: DefaultPrefix.
	Prefix string
	// OpTimeout bounds each Redis operation; those Allow makes are also
	// bounded by the caller's context, each to at most half the time
	// left before its deadline, and the function Allow returns waits
	// OpTimeout at most in all (see the package doc). Default:
	// DefaultOpTimeout.
	OpTimeout time.Duration
	// FailClosed makes a call fail with the Redis error when Allow's
	// Redis operations fail or run out of time (the caller's context
	// ended, or OpTimeout passed). Default: the call proceeds (an
	// unreachable Redis must not stop all traffic) and its outcome is
	// not recorded.
	FailClosed bool

	mu      sync.Mutex
	keys    map[string]*list.Element // of *kept
	lru     list.List                // of *kept, most recently used first
	maxKeys int
	store   *store
}

// kept is a breaker the Group keeps in process, with the store it was
// made with. Its State and Execute run only through locked.
type kept struct {
	key string
	cb  *gobreaker.DistributedCircuitBreaker[struct{}]
	ks  *keyStore
}

// keyStore is the SharedDataStore of one key's breaker: the Group's
// store, whose Lock and Unlock do nothing while locked holds the key's
// lock for the breaker's operation.
type keyStore struct {
	*store
	held bool // set and read only by the holder of the key's lock
}

// Lock implements gobreaker.SharedDataStore.
func (k *keyStore) Lock(name string) error {
	if k.held {
		return nil
	}
	return k.store.Lock(name)
}

// Unlock implements gobreaker.SharedDataStore.
func (k *keyStore) Unlock(name string) error {
	if k.held {
		return nil
	}
	return k.store.Unlock(name)
}

// mutexPrefix starts the name of the lock gobreaker v2.4.0 takes for a
// breaker (DistributedCircuitBreaker.mutexKey).
const mutexPrefix = "gobreaker:mutex:"

// locked runs f, gobreaker's State or Execute on k's breaker, holding the
// key's lock (in process and in Redis) for all of it. gobreaker v2.4.0
// reads the shared state before it takes that lock, and writes back what
// it read updated: two updates reading at once, in one process or two,
// lost one of them (TestConcurrentOutcomesAllCounted). Held here, the read
// is ordered with every other update; gobreaker's own Lock and Unlock do
// nothing meanwhile (keyStore). As gobreaker does, a lock another replica
// holds is waited for up to lockTTL. A panic of f is an error (noPanic).
func locked[T any](k *kept, f func() (T, error)) (T, error) {
	name := mutexPrefix + k.key
	var err error
	for start := time.Now(); ; {
		if err = k.ks.store.Lock(name); !errors.Is(err, errLockBusy) || time.Since(start) >= lockTTL {
			break
		}
	}
	if err != nil {
		var zero T
		return zero, err
	}
	k.ks.held = true
	defer func() {
		k.ks.held = false
		k.ks.store.Unlock(name)
	}()
	return noPanic(f)
}

// ErrNoClient is returned by a Group without a Client.
var ErrNoClient = errors.New("redisbreaker: Group.Client is nil")

// Allow implements breaker.Group. Each of its Redis operations is bounded
// by ctx and by a budget (see the package doc); when ctx ends or the
// budget runs out first, FailClosed decides as for any other Redis error.
// The function it returns records the outcome within OpTimeout.
func (g *Group) Allow(ctx context.Context, key string) (func(breaker.Outcome), error) {
	if g.Client == nil {
		return nil, ErrNoClient
	}
	s, k, err := g.breaker(ctx, key)
	var shared gobreaker.SharedState
	if err == nil {
		// One GET: the shared state as gobreaker stored it.
		shared, err = bounded.Do(ctx, bounded.Budget(ctx, s.opTimeout), func(ctx context.Context) (gobreaker.SharedState, error) {
			return s.peek(ctx, key)
		})
	}
	if err != nil {
		return g.unreachable(key, err)
	}
	st := shared.State
	if st == breaker.StateOpen && !shared.Expiry.After(time.Now()) {
		// The open state has expired: let gobreaker make the change
		// (and report it) under its lock.
		st, err = bounded.Do(ctx, bounded.Budget(ctx, s.opTimeout), func(context.Context) (breaker.State, error) {
			return locked(k, k.cb.State)
		})
		if err != nil {
			return g.unreachable(key, err)
		}
	}
	probe := false
	switch st {
	case breaker.StateOpen:
		return nil, &breaker.OpenError{Key: key, State: breaker.StateOpen, RetryAt: shared.Expiry}
	case breaker.StateHalfOpen:
		ok, err := g.takeProbe(ctx, s, key)
		if err != nil {
			return g.unreachable(key, err)
		}
		if !ok {
			return nil, &breaker.OpenError{Key: key, State: breaker.StateHalfOpen}
		}
		probe = true
	}
	// A success of a healthy closed breaker changes nothing the default
	// ReadyToTrip (consecutive failures) looks at: it is not recorded,
	// which keeps the healthy path to one GET. A custom ReadyToTrip (a
	// failure ratio, say) gets every outcome.
	healthy := st == breaker.StateClosed && shared.Counts.ConsecutiveFailures == 0 && g.Settings.ReadyToTrip == nil
	return func(o breaker.Outcome) {
		if healthy && o != breaker.Failure {
			return
		}
		// gobreaker's Execute has no context, and its lock may be retried
		// for 5s: the caller waits OpTimeout at most, and an update still
		// running then finishes (or fails) on its own. The result is the
		// outcome itself; gobreaker counts it in the shared state. Errors
		// of the store lose one count, no more.
		_, _ = bounded.Do(context.Background(), s.opTimeout, func(context.Context) (struct{}, error) {
			_, _ = locked(k, func() (struct{}, error) {
				return k.cb.Execute(func() (struct{}, error) { return struct{}{}, breaker.OutcomeError(o) })
			})
			if probe {
				s.releaseProbe(key)
			}
			return struct{}{}, nil
		})
	}, nil
}

// takeProbe takes a probe slot of key's half-open breaker within a budget
// bounded by ctx. A slot that Redis grants after Allow stopped waiting is
// given back by the operation itself, so that it is not lost until it
// expires; one granted just as the budget ran out is kept, and the call is
// a probe.
func (g *Group) takeProbe(ctx context.Context, s *store, key string) (bool, error) {
	var (
		mu     sync.Mutex
		gaveUp bool // Allow stopped waiting
		taken  bool // a slot is Allow's
	)
	_, err := bounded.Do(ctx, bounded.Budget(ctx, s.opTimeout), func(ctx context.Context) (struct{}, error) {
		ok, err := s.takeProbe(ctx, key, g.maxProbes(), g.Settings.Timeout)
		if ok {
			mu.Lock()
			defer mu.Unlock()
			if gaveUp {
				s.releaseProbe(key)
			} else {
				taken = true
			}
		}
		return struct{}{}, err
	})
	mu.Lock()
	defer mu.Unlock()
	gaveUp = true
	if taken {
		return true, nil
	}
	return false, err
}

// unreachable is Allow's answer when Redis fails or the budget runs out:
// with FailClosed, the error; otherwise the call goes, its outcome
// unrecorded.
func (g *Group) unreachable(key string, err error) (func(breaker.Outcome), error) {
	if g.FailClosed {
		return nil, fmt.Errorf("redisbreaker: breaker %q: %w", key, err)
	}
	return func(breaker.Outcome) {}, nil
}

// State returns the shared state of key's breaker (gobreaker's locked
// read, which makes an expired open state half-open). It waits OpTimeout
// at most for the read, and on a key's first use OpTimeout at most for
// making the breaker, whatever the client's options.
func (g *Group) State(key string) (breaker.State, error) {
	if g.Client == nil {
		return breaker.StateClosed, ErrNoClient
	}
	s, k, err := g.breaker(context.Background(), key)
	if err != nil {
		return breaker.StateClosed, err
	}
	return bounded.Do(context.Background(), s.opTimeout, func(context.Context) (breaker.State, error) {
		return locked(k, k.cb.State)
	})
}

// noPanic calls f, a gobreaker method working on the state stored in
// Redis, and returns a panic as an error. gobreaker v2.4.0 trusts that
// state: Execute indexes out of range on one without buckets (a hand edit,
// or a replica on an older gobreaker). The stored state is input, and
// recording runs in a goroutine of its own, where a panic would end the
// process.
func noPanic[T any](f func() (T, error)) (v T, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("redisbreaker: gobreaker failed on the shared state: %v", r)
		}
	}()
	return f()
}

func (g *Group) maxProbes() int64 {
	if g.Settings.MaxProbes == 0 {
		return breaker.DefaultMaxProbes
	}
	return int64(g.Settings.MaxProbes)
}

// breaker returns the Group's store, made on first use, and key's breaker,
// made on first use (or after it was dropped) within a budget bounded by
// ctx. Redis is not asked while g.mu is held: a breaker being made for one
// key, or a making abandoned when its budget ran out, never holds up
// another key. Two callers making the same key's breaker at once both make
// one (gobreaker stores its initial state only if none is stored); the
// first one kept is used. Keeping a new breaker beyond maxKeys drops the
// least recently used one, which loses nothing: see "How many keys" in the
// package doc.
func (g *Group) breaker(ctx context.Context, key string) (*store, *kept, error) {
	g.mu.Lock()
	if g.store == nil {
		g.store = &store{client: g.Client, prefix: g.Prefix, opTimeout: g.OpTimeout, locks: make(map[string]*heldLock)}
		if g.store.prefix == "" {
			g.store.prefix = DefaultPrefix
		}
		if g.store.opTimeout <= 0 {
			g.store.opTimeout = DefaultOpTimeout
		}
		g.keys = make(map[string]*list.Element)
		g.maxKeys = g.Settings.MaxKeys
		if g.maxKeys <= 0 {
			g.maxKeys = breaker.DefaultMaxKeys
		}
	}
	s := g.store
	var k *kept
	if el := g.keys[key]; el != nil {
		g.lru.MoveToFront(el)
		k = el.Value.(*kept)
	}
	g.mu.Unlock()
	if k != nil {
		return s, k, nil
	}
	k, err := bounded.Do(ctx, bounded.Budget(ctx, s.opTimeout), func(ctx context.Context) (*kept, error) {
		// gobreaker retries a failing Lock for 5 s while it builds the
		// breaker: find out at once whether Redis answers.
		if _, err := s.getData(ctx, sharedStatePrefix+key); err != nil {
			return nil, err
		}
		// Not shared yet: gobreaker takes the lock itself (ks.held is
		// false), and reads the state under it.
		ks := &keyStore{store: s}
		cb, err := gobreaker.NewDistributedCircuitBreaker[struct{}](ks, g.Settings.Gobreaker(key, nil))
		if err != nil {
			return nil, err
		}
		return &kept{key: key, cb: cb, ks: ks}, nil
	})
	if err != nil {
		return s, nil, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if el := g.keys[key]; el != nil {
		g.lru.MoveToFront(el)
		return s, el.Value.(*kept), nil
	}
	for len(g.keys) >= g.maxKeys {
		old := g.lru.Back()
		g.lru.Remove(old)
		delete(g.keys, old.Value.(*kept).key)
	}
	g.keys[key] = g.lru.PushFront(k)
	return s, k, nil
}

// store is gobreaker's SharedDataStore on go-redis. Lock takes a
// process-local mutex per name first, so that goroutines of one replica
// queue in process and only one of them polls Redis; the Redis lock holds
// a random token and is released only by its holder. A name's local mutex
// is kept while a Lock holds or waits for it, and dropped after: the store
// keeps no entry per key once its locks are released.
type store struct {
	client    redis.UniversalClient
	prefix    string
	opTimeout time.Duration

	mu    sync.Mutex
	locks map[string]*heldLock
}

type heldLock struct {
	local chan struct{} // capacity 1: held when full
	token string
	refs  int // Locks holding or waiting for it; guarded by store.mu
}

var errLockBusy = errors.New("redisbreaker: lock held by another replica")

var unlockScript = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`)

func (s *store) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), s.opTimeout)
}

// acquire returns name's local mutex, made if no Lock holds or waits for
// it, and counts the caller among its users until release.
func (s *store) acquire(name string) *heldLock {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.locks[name]
	if l == nil {
		l = &heldLock{local: make(chan struct{}, 1)}
		s.locks[name] = l
	}
	l.refs++
	return l
}

// release ends a use that acquire counted; the last one drops the entry.
func (s *store) release(name string, l *heldLock) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l.refs--; l.refs == 0 {
		delete(s.locks, name)
	}
}

// Lock implements gobreaker.SharedDataStore. Held, it keeps name's entry
// until Unlock.
func (s *store) Lock(name string) error {
	l := s.acquire(name)
	timer := time.NewTimer(DefaultLockWait)
	defer timer.Stop()
	select {
	case l.local <- struct{}{}:
	case <-timer.C:
		s.release(name, l)
		return errLockBusy
	}
	var b [16]byte
	rand.Read(b[:])
	token := hex.EncodeToString(b[:])
	wait := time.Millisecond
	for {
		ctx, cancel := s.ctx()
		ok, err := s.client.SetNX(ctx, s.prefix+name, token, lockTTL).Result()
		cancel()
		if err == nil && ok {
			l.token = token
			return nil
		}
		if err != nil {
			<-l.local
			s.release(name, l)
			return err
		}
		select {
		case <-timer.C:
			<-l.local
			s.release(name, l)
			return errLockBusy
		case <-time.After(wait):
		}
		wait = min(2*wait, 20*time.Millisecond)
	}
}

// Unlock implements gobreaker.SharedDataStore; gobreaker calls it only
// after a Lock that succeeded.
func (s *store) Unlock(name string) error {
	s.mu.Lock()
	l := s.locks[name]
	s.mu.Unlock()
	if l == nil {
		return nil // not held
	}
	ctx, cancel := s.ctx()
	defer cancel()
	err := unlockScript.Run(ctx, s.client, []string{s.prefix + name}, l.token).Err()
	l.token = ""
	select {
	case <-l.local:
		s.release(name, l)
	default:
	}
	return err
}

// GetData implements gobreaker.SharedDataStore: nil data for a name never
// set.
func (s *store) GetData(name string) ([]byte, error) {
	ctx, cancel := s.ctx()
	defer cancel()
	return s.getData(ctx, name)
}

// getData is GetData under ctx.
func (s *store) getData(ctx context.Context, name string) ([]byte, error) {
	b, err := s.client.Get(ctx, s.prefix+name).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	return b, err
}

// SetData implements gobreaker.SharedDataStore.
func (s *store) SetData(name string, data []byte) error {
	ctx, cancel := s.ctx()
	defer cancel()
	return s.client.Set(ctx, s.prefix+name, data, stateTTL).Err()
}

// peek reads key's shared state as gobreaker stored it (closed when none
// is stored yet).
func (s *store) peek(ctx context.Context, key string) (gobreaker.SharedState, error) {
	var st gobreaker.SharedState
	b, err := s.getData(ctx, sharedStatePrefix+key)
	if err != nil || len(b) == 0 {
		return st, err
	}
	return st, json.Unmarshal(b, &st)
}

var takeProbeScript = redis.NewScript(`
local n = redis.call("INCR", KEYS[1])
redis.call("PEXPIRE", KEYS[1], ARGV[2])
if n > tonumber(ARGV[1]) then redis.call("DECR", KEYS[1]) return 0 end
return 1`)

// takeProbe takes one of max probe slots of key's half-open breaker; a
// slot a replica never released expires after the breaker's timeout.
func (s *store) takeProbe(ctx context.Context, key string, max int64, timeout time.Duration) (bool, error) {
	if timeout <= 0 {
		timeout = breaker.DefaultTimeout
	}
	n, err := takeProbeScript.Run(ctx, s.client, []string{s.prefix + "probes:" + key}, max, timeout.Milliseconds()).Int()
	return n == 1, err
}

var releaseProbeScript = redis.NewScript(`if tonumber(redis.call("GET", KEYS[1]) or "0") > 0 then return redis.call("DECR", KEYS[1]) end return 0`)

func (s *store) releaseProbe(key string) {
	ctx, cancel := s.ctx()
	defer cancel()
	releaseProbeScript.Run(ctx, s.client, []string{s.prefix + "probes:" + key})
}
