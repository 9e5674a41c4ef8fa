package middleware_test

import (
	"errors"
	"net/http"
	"testing"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/middleware/breaker"
	"github.com/composiohttp/composiohttp/middleware/cache"
	"github.com/composiohttp/composiohttp/middleware/logging"
	"github.com/composiohttp/composiohttp/middleware/otelproxy"
	"github.com/composiohttp/composiohttp/middleware/ratelimit"
	"github.com/composiohttp/composiohttp/middleware/retry"
	"github.com/composiohttp/composiohttp/middleware/sdktoken"
)

// Every middleware answers a nil request with composiohttp.ErrNilRequest,
// without calling the next layer and without panicking.
func TestNilRequest(t *testing.T) {
	t.Parallel()
	next := roundTripFunc(func(*http.Request) (*http.Response, error) {
		t.Error("the next layer was called with a nil request")
		return nil, errors.New("unreachable")
	})
	for name, mw := range map[string]func(http.RoundTripper) http.RoundTripper{
		"breaker":   breaker.Middleware(),
		"cache":     cache.Middleware(),
		"logging":   logging.Middleware(),
		"otelproxy": otelproxy.Middleware(),
		"ratelimit": ratelimit.Middleware(ratelimit.NewLocal(10, 10)),
		"retry":     retry.Middleware(),
		"sdktoken":  sdktoken.Middleware(),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			resp, err := mw(next).RoundTrip(nil)
			if resp != nil || !errors.Is(err, composiohttp.ErrNilRequest) {
				t.Errorf("RoundTrip(nil) = %v, %v; want nil, ErrNilRequest", resp, err)
			}
		})
	}
}

// A nil Option is skipped by every constructor.
func TestNilOption(t *testing.T) {
	t.Parallel()
	for name, build := range map[string]func(){
		"breaker":   func() { breaker.New(nil, nil) },
		"cache":     func() { cache.New(nil, nil) },
		"logging":   func() { logging.New(nil, nil) },
		"otelproxy": func() { otelproxy.New(nil, nil) },
		"ratelimit": func() { ratelimit.New(nil, ratelimit.NewLocal(1, 1), nil) },
		"retry":     func() { retry.New(nil, nil) },
		"sdktoken":  func() { sdktoken.New(nil, nil) },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("a nil Option panics: %v", r)
				}
			}()
			build()
		})
	}
}
