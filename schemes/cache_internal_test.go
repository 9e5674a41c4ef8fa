package schemes

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"golang.org/x/oauth2"
)

// countingFetch returns a fetchFunc for tokenCache that hands out
// never-expiring tokens and counts its calls per key.
type countingFetch struct {
	mu    sync.Mutex
	calls map[string]int
}

func (f *countingFetch) fetch(key string) fetchFunc {
	return func(context.Context, *oauth2.Token) (*oauth2.Token, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.calls == nil {
			f.calls = map[string]int{}
		}
		f.calls[key]++
		return &oauth2.Token{AccessToken: "tok-" + key}, nil
	}
}

func (f *countingFetch) count(key string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[key]
}

// TestTokenCacheLRU: past maxCacheEntries the least recently used entry
// goes, not the whole cache, and never one whose exchange is in flight.
func TestTokenCacheLRU(t *testing.T) {
	t.Parallel()
	var c tokenCache
	var f countingFetch
	ctx := context.Background()
	now := time.Now()
	get := func(key string) {
		t.Helper()
		if tok, err := c.get(ctx, key, now, 0, f.fetch(key)); err != nil || tok.AccessToken != "tok-"+key {
			t.Fatalf("get(%s) = %v, %v", key, tok, err)
		}
	}

	// "slow" is in flight, and stays the least recently used entry.
	release := make(chan struct{})
	var releaseOnce sync.Once
	t.Cleanup(func() { releaseOnce.Do(func() { close(release) }) })
	slowStarted := make(chan struct{}, 2)
	var slowCalls atomic.Int32
	slowFetch := func(context.Context, *oauth2.Token) (*oauth2.Token, error) {
		slowCalls.Add(1)
		slowStarted <- struct{}{}
		<-release
		return &oauth2.Token{AccessToken: "tok-slow"}, nil
	}
	slowDone := make(chan error, 1)
	go func() {
		_, err := c.get(ctx, "slow", now, 0, slowFetch)
		slowDone <- err
	}()
	<-slowStarted

	for i := range maxCacheEntries - 1 {
		get(fmt.Sprint("k", i))
	}
	get("k0")      // k0 is now the most recently used; k1 the least (after slow)
	get("k-new")   // full: evicts k1, not slow, not k0
	get("k0")      // still cached
	get("k-new-2") // evicts k2
	c.mu.Lock()
	n := len(c.entries)
	c.mu.Unlock()
	if n != maxCacheEntries {
		t.Errorf("%d entries, want %d", n, maxCacheEntries)
	}
	if f.count("k0") != 1 {
		t.Errorf("k0 fetched %d times: a recently used entry was dropped", f.count("k0"))
	}
	get("k1")
	if f.count("k1") != 2 {
		t.Errorf("k1 fetched %d times, want 2 (evicted as least recently used)", f.count("k1"))
	}

	c.mu.Lock()
	_, ok := c.entries["slow"]
	c.mu.Unlock()
	if !ok {
		t.Error("in-flight entry evicted")
	}
	releaseOnce.Do(func() { close(release) })
	if err := <-slowDone; err != nil {
		t.Error(err)
	}
	if tok, err := c.get(ctx, "slow", now, 0, slowFetch); err != nil || tok.AccessToken != "tok-slow" {
		t.Errorf("slow after its flight: %v, %v", tok, err)
	}
	if n := slowCalls.Load(); n != 1 {
		t.Errorf("slow fetched %d times, want 1", n)
	}
}

// TestTokenCachePanic: a fetch that panics (it runs in its own goroutine,
// where a panic would end the program) is an error for every caller
// waiting on it, and the next call fetches again.
func TestTokenCachePanic(t *testing.T) {
	t.Parallel()
	var c tokenCache
	ctx := context.Background()
	var calls atomic.Int32
	fetch := func(context.Context, *oauth2.Token) (*oauth2.Token, error) {
		if calls.Add(1) == 1 {
			panic("exchange bug")
		}
		return &oauth2.Token{AccessToken: "tok"}, nil
	}
	if _, err := c.get(ctx, "k", time.Now(), 0, fetch); err == nil || !strings.Contains(err.Error(), "schemes: token exchange panicked: exchange bug") {
		t.Fatalf("panic: %v", err)
	}
	if tok, err := c.get(ctx, "k", time.Now(), 0, fetch); err != nil || tok.AccessToken != "tok" {
		t.Fatalf("after panic: %v, %v", tok, err)
	}
}

// TestTokenCacheOneFetchPerCallerDeadline: 50 concurrent callers cause one
// exchange; a caller whose context ends stops waiting at its own deadline,
// while the others get the token.
func TestTokenCacheOneFetchPerCallerDeadline(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var c tokenCache
		release := make(chan struct{})
		var calls atomic.Int32
		fetch := func(context.Context, *oauth2.Token) (*oauth2.Token, error) {
			calls.Add(1)
			<-release
			return &oauth2.Token{AccessToken: "shared"}, nil
		}
		const callers = 50
		var wg sync.WaitGroup
		toks := make([]*oauth2.Token, callers)
		errs := make([]error, callers)
		for i := range callers {
			wg.Go(func() {
				toks[i], errs[i] = c.get(context.Background(), "k", time.Now(), 0, fetch)
			})
		}
		impatient := make(chan error, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			_, err := c.get(ctx, "k", time.Now(), 0, fetch)
			impatient <- err
		}()
		synctest.Wait() // every caller waits on the one exchange
		time.Sleep(time.Second)
		if err := <-impatient; !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("impatient caller: %v, want its deadline", err)
		}
		close(release)
		wg.Wait()
		if n := calls.Load(); n != 1 {
			t.Errorf("%d exchanges for %d callers, want 1", n, callers+1)
		}
		for i := range callers {
			if errs[i] != nil || toks[i] != toks[0] || toks[i].AccessToken != "shared" {
				t.Fatalf("caller %d: %v, %v", i, toks[i], errs[i])
			}
		}
	})
}

// TestDigestUnambiguous: parts holding NUL bytes (the old separator) do
// not make two connections share a token cache entry.
func TestDigestUnambiguous(t *testing.T) {
	t.Parallel()
	for _, tt := range [][2][]string{
		{{"https://t", "a\x00b", "c"}, {"https://t", "a", "b\x00c"}},
		{{"a\x00", ""}, {"a", "\x00"}},
		{{"ab"}, {"a", "b"}},
	} {
		if digest(tt[0]...) == digest(tt[1]...) {
			t.Errorf("digest(%q) == digest(%q)", tt[0], tt[1])
		}
	}
}

// TestTokenCacheDrop: drop forgets the token only if it is the one named
// (a 401 for an older token leaves a newer one), and keeps the refresh
// token for the next exchange.
func TestTokenCacheDrop(t *testing.T) {
	t.Parallel()
	var c tokenCache
	now := time.Now()
	var n atomic.Int32
	var prevs []string
	fetch := func(_ context.Context, prev *oauth2.Token) (*oauth2.Token, error) {
		if prev != nil {
			prevs = append(prevs, prev.RefreshToken)
		}
		i := n.Add(1)
		return &oauth2.Token{AccessToken: fmt.Sprint("at", i), RefreshToken: fmt.Sprint("rt", i)}, nil
	}
	get := func() string {
		tok, err := c.get(context.Background(), "k", now, 0, fetch)
		if err != nil {
			t.Fatal(err)
		}
		return tok.AccessToken
	}
	steps := []struct {
		drop, want string
	}{
		{"", "at1"},
		{"at0", "at1"},  // another token: kept
		{"at1", "at2"},  // dropped: exchanged again, with rt1
		{"at1", "at2"},  // a late 401 for at1 leaves at2
		{"at2x", "at2"}, // not a prefix match
		{"at2", "at3"},
	}
	for i, st := range steps {
		c.drop("k", st.drop, now, 0)
		c.drop("missing key", st.drop, now, 0)
		if got := get(); got != st.want {
			t.Errorf("step %d: %q, want %q", i, got, st.want)
		}
	}
	if fmt.Sprint(prevs) != "[rt1 rt2]" {
		t.Errorf("refresh tokens handed to the exchanges: %v, want [rt1 rt2]", prevs)
	}
}
