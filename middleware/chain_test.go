package middleware_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/composiohttp/composiohttp/middleware"
)

// named returns a middleware that appends name to the X-Order header of
// the request on the way in.
func named(name string) middleware.Middleware {
	return func(next http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(req *http.Request) (*http.Response, error) {
			r := req.Clone(req.Context())
			r.Header.Add("X-Order", name)
			return next.RoundTrip(r)
		})
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestChain(t *testing.T) {
	t.Parallel()
	var got string
	base := roundTripFunc(func(req *http.Request) (*http.Response, error) {
		got = strings.Join(req.Header.Values("X-Order"), ",")
		return &http.Response{StatusCode: 200, Body: http.NoBody, Request: req}, nil
	})
	tests := []struct {
		name string
		mws  []middleware.Middleware
		want string
	}{
		{name: "none", want: ""},
		{name: "outermost first", mws: []middleware.Middleware{named("trace"), named("logging"), named("cache"), named("retry"), named("ratelimit")},
			want: "trace,logging,cache,retry,ratelimit"},
		{name: "nil skipped", mws: []middleware.Middleware{nil, named("a"), nil, named("b"), nil}, want: "a,b"},
	}
	for _, tc := range tests {
		got = "unset"
		req, _ := http.NewRequest("GET", "https://api.example.com/", nil)
		if _, err := middleware.Chain(base, tc.mws...).RoundTrip(req); err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("%s: order %q, want %q", tc.name, got, tc.want)
		}
	}
	if rt := middleware.Chain(nil); rt != http.DefaultTransport {
		t.Errorf("Chain(nil) = %v, want http.DefaultTransport", rt)
	}
}
