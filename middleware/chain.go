package middleware

import "net/http"

// Middleware wraps an http.RoundTripper with another one. Each
// sub-package of middleware provides a constructor returning one, for
// use with Chain.
type Middleware func(http.RoundTripper) http.RoundTripper

// Chain wraps base with mws, outermost first: Chain(base, a, b) is
// a(b(base)), so a sees a call first and its response last. Nil
// middlewares are skipped. A nil base is passed to the innermost
// middleware as is; the middlewares of this module treat it as
// http.DefaultTransport, and Chain(nil) with no middleware returns
// http.DefaultTransport.
//
// The recommended order is otelproxy, logging, cache, retry, breaker,
// ratelimit, then the composiohttp.Transport (see the package
// documentation).
func Chain(base http.RoundTripper, mws ...Middleware) http.RoundTripper {
	rt := base
	for i := len(mws) - 1; i >= 0; i-- {
		if mws[i] != nil {
			rt = mws[i](rt)
		}
	}
	if rt == nil {
		return http.DefaultTransport
	}
	return rt
}
