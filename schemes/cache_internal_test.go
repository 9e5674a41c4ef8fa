package schemes

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
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
