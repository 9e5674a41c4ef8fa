package redislimit

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/composiohttp/composiohttp/middleware/ratelimit"

	"github.com/composiohttp/composiohttp/internal/bounded"
)

// DefaultOrgKey names the organisation's window state in Redis (after the
// prefix). Use one key per Composio organisation.
const DefaultOrgKey = "org"

// orgStaleInFlight: calls counted in flight for longer than this with no
// reply seen by any replica are forgotten (a replica that died mid-call
// must not hold capacity forever).
const orgStaleInFlight = time.Minute

// OrgStore is a ratelimit.OrgStore keeping the organisation's window in
// Redis, so that all replicas pace together under Composio's org-wide
// limit: give every replica's ratelimit.OrgLimiter the same OrgStore
// settings.
//
//	org := &ratelimit.OrgLimiter{Store: &redislimit.OrgStore{Client: rdb}}
//	tr := &composiohttp.Transport{Base: org.Transport(nil)}
//
// Each Wait and Done is one Lua script (one round trip), applying the same
// rules as the in-process store. Times come from the replicas' clocks
// (passed to the scripts, in milliseconds), which must roughly agree.
// Calls in flight are counted across replicas; a replica that dies
// mid-call holds capacity for at most a minute. Set the fields before
// first use and do not change them after.
type OrgStore struct {
	// Client is the Redis client. Required.
	Client redis.UniversalClient
	// Prefix and Key name the state: Prefix+Key. Defaults:
	// DefaultPrefix, DefaultOrgKey.
	Prefix, Key string
	// FailOpen lets calls through (and loses their observations) when
	// Redis fails, does not answer in time, or answers with a malformed
	// reply (*ReplyError). Default: Wait fails with that error.
	FailOpen bool
	// OpTimeout bounds each operation (at most half the time left
	// before the context's deadline). Default DefaultOpTimeout.
	OpTimeout time.Duration
}

// ErrMalformedReply is matched (errors.Is) by every *ReplyError.
var ErrMalformedReply = errors.New("composiohttp: redislimit: malformed reply from Redis")

// ReplyError is a reply from Redis that is not what the OrgStore's script
// returns (an array of a wait in milliseconds, at least 0, and a reason):
// an answer from a Redis-compatible server or proxy that does not run the
// script as Redis does, or from something else answering on its address.
// It is a store error like any other: without FailOpen, Acquire fails with
// it; with FailOpen, the call goes on. It matches ErrMalformedReply.
type ReplyError struct {
	// Op is the operation whose reply it was, e.g. "org acquire".
	Op string
	// Reply describes what came back (at most 100 bytes of its Go
	// formatting: numbers and words, never a secret).
	Reply string
}

func (e *ReplyError) Error() string {
	return "composiohttp: redislimit: malformed reply from Redis to " + e.Op + ": " + e.Reply
}

// Is makes errors.Is(err, ErrMalformedReply) true.
func (e *ReplyError) Is(target error) bool { return target == ErrMalformedReply }

// malformed returns the *ReplyError for reply v of op.
func malformed(op string, v any) *ReplyError {
	s := fmt.Sprintf("%#v", v)
	if len(s) > 100 {
		s = s[:100] + "…"
	}
	return &ReplyError{Op: op, Reply: s}
}

// errNoOrgClient is returned by an OrgStore without a Client.
var errNoOrgClient = errors.New("redislimit: OrgStore.Client is nil")

func (s *OrgStore) key() string {
	p, k := s.Prefix, s.Key
	if p == "" {
		p = DefaultPrefix
	}
	if k == "" {
		k = DefaultOrgKey
	}
	return p + k
}

func (s *OrgStore) budget(ctx context.Context) time.Duration {
	d := s.OpTimeout
	if d <= 0 {
		d = DefaultOpTimeout
	}
	return bounded.Budget(ctx, d)
}

// The state hash: known, limit, window (ms), end (ms), avail, inflight,
// probing, paused (ms), last (ms, last grant), reply (ms, last reply).
var orgAcquireScript = redis.NewScript(`
local k = KEYS[1]
local now, slow, poll, stale = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local h = redis.call('HMGET', k, 'known', 'limit', 'window', 'end', 'avail', 'inflight', 'probing', 'paused', 'last', 'reply')
local known, limit, window, e = h[1] == '1', tonumber(h[2]) or 0, tonumber(h[3]) or 0, tonumber(h[4]) or 0
local avail, inflight, probing = tonumber(h[5]) or 0, tonumber(h[6]) or 0, h[7] == '1'
local paused, last, reply = tonumber(h[8]) or 0, tonumber(h[9]) or 0, tonumber(h[10]) or 0
if inflight > 0 and now - math.max(reply, last) > stale then inflight = 0 end
local function grant()
  inflight = inflight + 1
  if known then avail = avail - 1 end
  redis.call('HSET', k, 'avail', avail, 'inflight', inflight, 'last', now, 'probing', probing and '1' or '0')
  redis.call('PEXPIRE', k, math.max(2 * window, 86400000))
  return {0, ''}
end
if paused > now then return {paused - now, 'paused'} end
if not known then return grant() end
if now >= e then
  if probing then return {math.min(poll, math.max(math.floor(window / 20), 1)), 'window'} end
  probing = true
  avail = limit
  return grant()
end
if avail <= 0 then return {e - now, 'exhausted'} end
if slow >= 0 and avail < slow * limit then
  local d = last + math.floor((e - now) / (avail + 1)) - now
  if d > 0 then return {d, 'pace'} end
end
return grant()
`)

var orgReleaseScript = redis.NewScript(`
local k = KEYS[1]
local now, replied, status, headers = tonumber(ARGV[1]), ARGV[2] == '1', tonumber(ARGV[3]), ARGV[4] == '1'
local olimit, oremaining, owindow, ra = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local h = redis.call('HMGET', k, 'known', 'limit', 'window', 'end', 'avail', 'inflight', 'probing', 'paused')
local known, limit, window, e = h[1] == '1', tonumber(h[2]) or 0, tonumber(h[3]) or 0, tonumber(h[4]) or 0
local avail, inflight, probing, paused = tonumber(h[5]) or 0, tonumber(h[6]) or 0, h[7] == '1', tonumber(h[8]) or 0
inflight = math.max(inflight - 1, 0)
if not headers and status ~= 429 then
  probing = false
elseif status == 429 then
  if ra <= 0 then ra = window end
  if ra <= 0 then ra = 1000 end
  local untl = now + ra
  if untl > paused then paused = untl end
  if headers then known, limit, window = true, olimit, owindow end
  if known then e, avail, probing = untl, 0, false end
elseif (not known) or probing or now >= e then
  known, limit, window = true, olimit, owindow
  e = now + owindow
  avail = oremaining - inflight
  probing = false
else
  limit, window = olimit, owindow
  avail = math.min(avail, oremaining - inflight)
end
redis.call('HSET', k, 'known', known and '1' or '0', 'limit', limit, 'window', window, 'end', e, 'avail', avail,
  'inflight', inflight, 'probing', probing and '1' or '0', 'paused', paused, 'reply', now)
redis.call('PEXPIRE', k, math.max(2 * window, 86400000))
return 1
`)

func ms(t time.Time) int64 { return t.UnixMilli() }

// Acquire implements ratelimit.OrgStore.
func (s *OrgStore) Acquire(ctx context.Context, now time.Time, slowBelow float64) (time.Duration, string, error) {
	if s.Client == nil {
		return 0, "", errNoOrgClient
	}
	type res struct {
		wait   time.Duration
		reason string
	}
	r, err := bounded.Do(ctx, s.budget(ctx), func(ctx context.Context) (res, error) {
		reply, err := orgAcquireScript.Run(ctx, s.Client, []string{s.key()}, ms(now), slowBelow,
			ratelimit.DefaultOrgPoll.Milliseconds(), orgStaleInFlight.Milliseconds()).Result()
		if err != nil {
			return res{}, err
		}
		// {wait (ms, >= 0), reason}; anything else is a store error,
		// never a grant.
		v, ok := reply.([]any)
		if !ok || len(v) != 2 {
			return res{}, malformed("org acquire", reply)
		}
		d, okWait := v[0].(int64)
		reason, okReason := v[1].(string)
		if !okWait || !okReason || d < 0 {
			return res{}, malformed("org acquire", reply)
		}
		return res{time.Duration(d) * time.Millisecond, reason}, nil
	})
	if err != nil {
		if s.FailOpen && ctx.Err() == nil {
			return 0, "", nil
		}
		if errors.Is(err, ErrMalformedReply) {
			return 0, "", err // composiohttp:-prefixed already
		}
		return 0, "", fmt.Errorf("redislimit: org limit: %w", err)
	}
	return r.wait, r.reason, nil
}

// Release implements ratelimit.OrgStore.
func (s *OrgStore) Release(ctx context.Context, now time.Time, o ratelimit.OrgObservation) error {
	if s.Client == nil {
		return errNoOrgClient
	}
	b := func(v bool) string {
		if v {
			return "1"
		}
		return "0"
	}
	_, err := bounded.Do(ctx, s.budget(ctx), func(ctx context.Context) (struct{}, error) {
		return struct{}{}, orgReleaseScript.Run(ctx, s.Client, []string{s.key()}, ms(now), b(o.Replied), o.Status, b(o.Headers),
			o.Limit, o.Remaining, o.Window.Milliseconds(), o.RetryAfter.Milliseconds()).Err()
	})
	return err
}

// State implements ratelimit.OrgStore. Like Acquire and Release, it
// returns within its operation budget (OpTimeout, at most half the time
// left before ctx's deadline) whatever the client's options.
func (s *OrgStore) State(ctx context.Context, _ time.Time) (ratelimit.OrgState, error) {
	if s.Client == nil {
		return ratelimit.OrgState{}, errNoOrgClient
	}
	v, err := bounded.Do(ctx, s.budget(ctx), func(ctx context.Context) ([]any, error) {
		return s.Client.HMGet(ctx, s.key(), "known", "limit", "window", "end", "avail", "inflight").Result()
	})
	if err != nil {
		return ratelimit.OrgState{}, fmt.Errorf("redislimit: org state: %w", err)
	}
	if len(v) != 6 {
		return ratelimit.OrgState{}, malformed("org state", v)
	}
	n := func(i int) int64 {
		str, _ := v[i].(string)
		var x int64
		fmt.Sscan(str, &x)
		return x
	}
	known, _ := v[0].(string)
	return ratelimit.OrgState{
		Known: known == "1", Limit: int(n(1)), Window: time.Duration(n(2)) * time.Millisecond,
		End: time.UnixMilli(n(3)), Available: int(n(4)), InFlight: int(n(5)),
	}, nil
}
