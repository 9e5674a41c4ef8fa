//go:build unix

package redislimit

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/composiohttp/composiohttp/internal/redistest"
)

// replyHook replaces the reply of every script a real redis-server ran
// (EVALSHA, or EVAL after NOSCRIPT) with reply: what a Redis proxy, a
// Redis-compatible server or a script of another version sharing the key
// prefix could answer.
type replyHook struct{ reply any }

func (replyHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h replyHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if c, ok := cmd.(*redis.Cmd); ok && err == nil && (cmd.Name() == "evalsha" || cmd.Name() == "eval") {
			c.SetVal(h.reply)
		}
		return err
	}
}

func (replyHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// TestOrgStoreMalformedReply: a reply of the acquire script that is not
// {wait >= 0, reason} is a store error (a *ReplyError, composiohttp:-
// prefixed), never a grant: without FailOpen, Acquire fails with it; with
// FailOpen, the call goes on as after any other Redis error (wait 0, no
// reason, no error).
func TestOrgStoreMalformedReply(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		reply any
	}{
		{"one element", []any{int64(5)}},
		{"no element", []any{}},
		{"three elements", []any{int64(0), "", int64(1)}},
		{"wait not an integer", []any{"soon", "pace"}},
		{"reason not a string", []any{int64(10), int64(1)}},
		{"negative wait", []any{int64(-5), "pace"}},
		{"nil elements", []any{nil, nil}},
		{"not an array", int64(1)},
	}
	for _, tt := range tests {
		for _, failOpen := range []bool{false, true} {
			name := tt.name + "/fail closed"
			if failOpen {
				name = tt.name + "/fail open"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				c := newClient(t)
				c.AddHook(replyHook{tt.reply})
				s := &OrgStore{Client: c, Key: uniquePrefix(t) + "org", FailOpen: failOpen}
				wait, reason, err := s.Acquire(context.Background(), time.Now(), 0.5)
				if failOpen {
					if wait != 0 || reason != "" || err != nil {
						t.Fatalf("fail open: Acquire = %v, %q, %v; want 0, \"\", nil", wait, reason, err)
					}
					return
				}
				var rerr *ReplyError
				if !errors.As(err, &rerr) || !errors.Is(err, ErrMalformedReply) {
					t.Fatalf("Acquire = %v, %q, %v; want a *ReplyError", wait, reason, err)
				}
				if !strings.HasPrefix(err.Error(), "composiohttp: ") || wait != 0 || reason != "" {
					t.Errorf("Acquire = %v, %q, %q; want 0, \"\" and a composiohttp: error", wait, reason, err)
				}
			})
		}
	}
}

// TestOrgStoreStateBounded: State, like Acquire and Release, returns
// within its operation budget (OpTimeout, at most half the time left
// before the caller's deadline) whatever the go-redis options, here its
// defaults (3s ReadTimeout, context deadlines ignored by socket reads),
// when Redis is frozen or killed. As in TestDeadlineBoundsWaitWhenRedisFails,
// promptness is asserted without timing: State must return while the
// caller's 1s deadline has not passed (100ms budget, 900ms slack).
func TestOrgStoreStateBounded(t *testing.T) {
	t.Parallel()
	for _, c := range redistest.Failures {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			srv := redistest.Start(t)
			client := srv.Client(t) // go-redis defaults
			s := &OrgStore{Client: client, Key: uniquePrefix(t) + "org", OpTimeout: 100 * time.Millisecond}
			if _, err := s.State(context.Background(), time.Now()); err != nil {
				t.Fatalf("before breaking Redis: %v", err)
			}
			c.Break(srv)
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			_, err := s.State(ctx, time.Now())
			if late := ctx.Err(); late != nil {
				t.Fatalf("State returned after the caller's 1s deadline (err %v)", err)
			}
			if err == nil {
				t.Fatal("State of a broken Redis: no error")
			}
		})
	}
}
