//go:build unix

package redisbreaker_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sony/gobreaker/v2"

	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/internal/redistest"
	"github.com/composiohttp/composiohttp/middleware/breaker"
	"github.com/composiohttp/composiohttp/middleware/breaker/redisbreaker"
	"github.com/composiohttp/composiohttp/testutil"
)

// upstream notes how it was called: how many times, and how many of them
// with the caller's context already ended.
type upstream struct{ calls, late atomic.Int64 }

func (u *upstream) RoundTrip(r *http.Request) (*http.Response, error) {
	u.calls.Add(1)
	if r.Context().Err() != nil {
		u.late.Add(1)
	}
	if r.Body != nil {
		r.Body.Close()
	}
	return &http.Response{StatusCode: 200, Body: http.NoBody}, nil
}

// closeBody is a request body that notes whether it was closed.
type closeBody struct{ closed atomic.Bool }

func (b *closeBody) Read([]byte) (int, error) { return 0, io.EOF }
func (b *closeBody) Close() error             { b.closed.Store(true); return nil }

// The caller's deadline, and OpTimeout, bound the Redis operations Allow
// makes, whatever go-redis options the user chose, here go-redis's
// defaults (5 dial retries, 3s ReadTimeout, context deadlines ignored by
// socket reads), when Redis is killed or frozen (SIGSTOP); FailClosed then
// decides as for any Redis error. Both a key whose breaker exists
// ("warm": one GET) and a key seen for the first time ("cold": the
// breaker's creation) are tried.
//
// Promptness is asserted without timing: with bound "deadline", OpTimeout
// is a minute and the caller's deadline 1s, so that only the caller's
// context can end the wait, and the test checks that the call returned
// while that deadline had not yet passed (its budget is half the time
// left: 500ms of slack); with bound "OpTimeout", OpTimeout is 100ms, the
// caller's context has no deadline, and a guard context checks that the
// calls returned within 1s. Before the fix Allow ignored its context: a
// frozen Redis held each call for go-redis's 3s ReadTimeout.
func TestDeadlineBoundsAllowWhenRedisFails(t *testing.T) {
	t.Parallel()
	for _, c := range redistest.Failures {
		for _, bound := range []string{"deadline", "OpTimeout"} {
			for _, failClosed := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/%s/FailClosed=%v", c.Name, bound, failClosed), func(t *testing.T) {
					t.Parallel()
					srv := redistest.Start(t)
					client := srv.Client(t) // go-redis defaults
					g := &redisbreaker.Group{Client: client, Prefix: "test:" + t.Name() + ":", FailClosed: failClosed, OpTimeout: time.Minute}
					if bound == "OpTimeout" {
						g.OpTimeout = 100 * time.Millisecond
					}
					if _, err := g.Allow(context.Background(), "warm"); err != nil {
						t.Fatalf("before breaking Redis: %v", err)
					}
					c.Break(srv)
					var next upstream
					rt := breaker.New(&next, breaker.WithGroup(g))
					for _, key := range []string{"warm", "cold"} {
						guard, cancel := context.WithTimeout(context.Background(), time.Second)
						ctx := guard
						if bound == "OpTimeout" {
							ctx = context.WithoutCancel(guard)
						}
						body := &closeBody{}
						req, _ := http.NewRequestWithContext(ctx, "POST", "https://"+key+"/x", body)
						calls := next.calls.Load()
						resp, err := rt.RoundTrip(req)
						late := guard.Err()
						cancel()
						if late != nil {
							t.Fatalf("%s: RoundTrip returned after 1s (err %v)", key, err)
						}
						if failClosed {
							if err == nil || !strings.HasPrefix(err.Error(), "redisbreaker: ") {
								t.Fatalf("%s: fail closed: err = %v, want a redisbreaker error", key, err)
							}
							if c.Name == "frozen" && !errors.Is(err, context.DeadlineExceeded) {
								t.Errorf("%s: frozen Redis: err = %v, want one matching context.DeadlineExceeded", key, err)
							}
							if next.calls.Load() != calls || !body.closed.Load() {
								t.Errorf("%s: refused call: upstream called %v, body closed %v; want false, true", key, next.calls.Load() != calls, body.closed.Load())
							}
							continue
						}
						if err != nil {
							t.Fatalf("%s: fail open did not open: %v", key, err)
						}
						resp.Body.Close()
					}
					if want := map[bool]int64{false: 2, true: 0}[failClosed]; next.calls.Load() != want || next.late.Load() != 0 {
						t.Errorf("upstream called %d times (%d after the caller's deadline), want %d, 0", next.calls.Load(), next.late.Load(), want)
					}
				})
			}
		}
	}
}

// A caller's context that ends, before Allow or while it waits for a
// frozen Redis, ends Allow at once: with FailClosed the error wraps the
// context's error (and Redis is not asked for a context already ended),
// otherwise the call goes on unrecorded and the next RoundTripper sees the
// ended context (a composiohttp.Transport fails the call with it).
func TestEndedContextEndsAllow(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	client := srv.Client(t)
	if err := client.Ping(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	srv.Freeze()
	for _, c := range []struct {
		name   string
		cancel func(context.CancelFunc) // ends the caller's context
	}{
		{"before", func(cancel context.CancelFunc) { cancel() }},
		{"while waiting", func(cancel context.CancelFunc) { go cancel() }},
	} {
		for _, failClosed := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/FailClosed=%v", c.name, failClosed), func(t *testing.T) {
				t.Parallel()
				// OpTimeout is far beyond the guard: only the caller's
				// cancellation can end the wait.
				g := &redisbreaker.Group{Client: client, Prefix: "test:" + t.Name() + ":", FailClosed: failClosed, OpTimeout: time.Minute}
				guard, stop := context.WithTimeout(context.Background(), time.Second)
				defer stop()
				ctx, cancel := context.WithCancel(context.WithoutCancel(guard))
				defer cancel()
				c.cancel(cancel)
				done, err := g.Allow(ctx, "k")
				if guard.Err() != nil {
					t.Fatalf("Allow returned after 1s (err %v)", err)
				}
				if failClosed {
					if !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), "redisbreaker: ") {
						t.Errorf("err = %v, want a redisbreaker error wrapping context.Canceled", err)
					}
					return
				}
				if err != nil {
					t.Fatalf("fail open: %v", err)
				}
				done(breaker.Failure) // unrecorded: returns at once, Redis frozen or not
				if guard.Err() != nil {
					t.Fatal("the recording function of an unrecorded call waited for Redis")
				}
				// Downstream, the Transport sees the ended context and
				// fails the call with it, without calling the proxy.
				f := testutil.NewServer(t)
				f.AddAccount(testutil.Account{ID: "ca_1", AuthScheme: credentials.NoAuth})
				tr := f.Transport()
				tr.ConnectedAccountID = "ca_1"
				req, _ := http.NewRequestWithContext(ctx, "GET", "https://api.example.com/x", nil)
				resp, err := breaker.New(tr, breaker.WithGroup(g)).RoundTrip(req)
				if resp != nil {
					resp.Body.Close()
				}
				if !errors.Is(err, context.Canceled) || len(f.Requests()) != 0 || guard.Err() != nil {
					t.Errorf("through the Transport: err = %v, %d proxy calls, late %v; want context.Canceled, none, nil", err, len(f.Requests()), guard.Err())
				}
			})
		}
	}
}

// The function Allow returns records the outcome within OpTimeout whatever
// the go-redis options, when Redis is killed or frozen after Allow: the
// caller does not wait for gobreaker's locked update (4 round trips, and
// up to 5s of lock retries). Before the fix a frozen Redis held it for
// go-redis's 3s ReadTimeout. OpTimeout is 100ms, the guard 1s.
func TestRecordingBoundedByOpTimeout(t *testing.T) {
	t.Parallel()
	for _, c := range redistest.Failures {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			srv := redistest.Start(t)
			client := srv.Client(t)
			g := &redisbreaker.Group{Client: client, Prefix: "test:" + t.Name() + ":", FailClosed: true, OpTimeout: 100 * time.Millisecond}
			done, err := g.Allow(context.Background(), "k")
			if err != nil {
				t.Fatal(err)
			}
			c.Break(srv)
			guard, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			done(breaker.Failure)
			if guard.Err() != nil {
				t.Error("recording the outcome took more than 1s with OpTimeout 100ms")
			}
		})
	}
}

// releaseHook signals each successful run of the script that gives a
// probe slot back (EVALSHA or EVAL with one key and no argument).
type releaseHook struct{ released chan struct{} }

func (h releaseHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h releaseHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}
func (h releaseHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if name := cmd.Name(); err == nil && (name == "evalsha" || name == "eval") && len(cmd.Args()) == 4 {
			if key, _ := cmd.Args()[3].(string); strings.HasSuffix(key, "probes:k") {
				h.released <- struct{}{}
			}
		}
		return err
	}
}

// A half-open breaker's probe slot that Redis grants after Allow stopped
// waiting (the caller's budget ran out) is given back, not lost until it
// expires (Settings.Timeout, an hour here): the next call gets it. Redis
// pauses writes (CLIENT PAUSE WRITE), so that Allow's GET is answered and
// the script taking the slot waits until the test unpauses Redis. Before
// the slot was given back, the next call was refused (half-open, all
// probes in flight).
func TestAbandonedProbeSlotGivenBack(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	hook := releaseHook{released: make(chan struct{}, 1)}
	client := redis.NewClient(&redis.Options{Addr: srv.Addr})
	client.AddHook(hook)
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr})
	t.Cleanup(func() { client.Close(); admin.Close() })
	prefix := "test:" + t.Name() + ":"
	g := &redisbreaker.Group{Client: client, Prefix: prefix, FailClosed: true, OpTimeout: time.Minute,
		Settings: breaker.Settings{Timeout: time.Hour}}
	bg := context.Background()
	if _, err := g.Allow(bg, "k"); err != nil { // makes the breaker
		t.Fatal(err)
	}
	// Half-open: the state gobreaker stored, its State changed.
	var shared gobreaker.SharedState
	if b, err := admin.Get(bg, prefix+"gobreaker:state:k").Bytes(); err != nil || json.Unmarshal(b, &shared) != nil {
		t.Fatalf("stored state %q: %v", b, err)
	}
	shared.State = breaker.StateHalfOpen
	half, _ := json.Marshal(shared)
	if err := admin.Set(bg, prefix+"gobreaker:state:k", half, 0).Err(); err != nil {
		t.Fatal(err)
	}
	// One probe first, so that Redis has both scripts (a script run for
	// the first time is sent twice: EVALSHA, NOSCRIPT, EVAL).
	done, err := g.Allow(bg, "k")
	if err != nil {
		t.Fatalf("first probe: %v", err)
	}
	done(breaker.Ignore) // stays half-open, gives the slot back
	<-hook.released
	if err := admin.Do(bg, "CLIENT", "PAUSE", 60000, "WRITE").Err(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(bg, time.Second)
	_, err = g.Allow(ctx, "k")
	late := ctx.Err()
	cancel()
	if late != nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Allow with writes paused: err %v, returned after the deadline: %v; want the budget's error in time", err, late != nil)
	}
	if err := admin.Do(bg, "CLIENT", "UNPAUSE").Err(); err != nil {
		t.Fatal(err)
	}
	guard, stop := context.WithTimeout(bg, 10*time.Second)
	defer stop()
	select {
	case <-hook.released:
	case <-guard.Done():
		t.Fatal("the slot granted after Allow gave up was not given back")
	}
	done, err = g.Allow(bg, "k")
	if err != nil {
		t.Fatalf("next call: %v, want the probe slot", err)
	}
	done(breaker.Success) // closes the breaker, gives the slot back
	<-hook.released
	if st, err := g.State("k"); err != nil || st != breaker.StateClosed {
		t.Errorf("after the probe's success: %v, %v; want closed", st, err)
	}
}

// A shared state gobreaker cannot use (no buckets: a hand edit, or a
// replica on an older gobreaker) is input, not a reason to crash: gobreaker
// v2.4.0's Execute indexes out of range on it, and since recording runs in
// a goroutine of its own (so that the caller waits OpTimeout at most) that
// panic ended the process. The outcome is lost instead, and the breaker
// goes on answering. Before the fix the test binary crashed.
func TestUnusableSharedStateDoesNotCrash(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	client := srv.Client(t)
	prefix := "test:" + t.Name() + ":"
	bg := context.Background()
	bad, _ := json.Marshal(gobreaker.SharedState{State: breaker.StateClosed, Counts: breaker.Counts{ConsecutiveFailures: 1}})
	if err := client.Set(bg, prefix+"gobreaker:state:k", bad, 0).Err(); err != nil {
		t.Fatal(err)
	}
	g := &redisbreaker.Group{Client: client, Prefix: prefix, FailClosed: true}
	for range 2 {
		done, err := g.Allow(bg, "k")
		if err != nil {
			t.Fatalf("Allow: %v", err)
		}
		done(breaker.Failure)
	}
	if st, err := g.State("k"); err != nil || st != breaker.StateClosed {
		t.Errorf("State: %v, %v; want closed", st, err)
	}
}

// Group.State, which has no context, waits OpTimeout at most for its read
// when Redis is frozen, whatever the go-redis options (before the fix:
// go-redis's 3s ReadTimeout). OpTimeout is 100ms, the guard 1s.
func TestStateBoundedByOpTimeout(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	client := srv.Client(t)
	g := &redisbreaker.Group{Client: client, Prefix: "test:" + t.Name() + ":", OpTimeout: 100 * time.Millisecond}
	if _, err := g.State("k"); err != nil {
		t.Fatal(err)
	}
	srv.Freeze()
	guard, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err := g.State("k")
	if guard.Err() != nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("State with Redis frozen: %v, after 1s: %v; want a budget error in time", err, guard.Err() != nil)
	}
}
