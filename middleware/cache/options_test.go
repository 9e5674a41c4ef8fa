package cache_test

import (
	"net/http"
	"testing"

	"github.com/composiohttp/composiohttp/middleware/cache"
)

// A nil Option is skipped, as in retry and ratelimit.
func TestNilOption(t *testing.T) {
	t.Parallel()
	s := &stub{h: cacheable}
	rt := cache.New(s, nil, cache.WithDefaultIdentity("me"), nil)
	for range 2 {
		get(t, rt, account("a"), "https://api.github.com/p")
	}
	if n := s.calls.Load(); n != 1 {
		t.Errorf("next called %d times, want 1", n)
	}
	if cache.Middleware(nil)(http.DefaultTransport) == nil {
		t.Error("Middleware(nil) returned nil")
	}
}
