package composiohttp

import (
	"net/http"
	"runtime"
	"sync"
)

// DefaultBase returns the http.RoundTripper a Transport uses when its Base
// is nil: one clone of http.DefaultTransport, made on first use and shared
// by every such Transport, tuned for what a Transport does, which is to
// send every call to one host (the proxy):
//
//   - MaxIdleConnsPerHost is max(100, 16×GOMAXPROCS) instead of net/http's
//     2, so that concurrent calls reuse their connections instead of
//     opening (against the real service: a TLS handshake each) and closing
//     one per call beyond the second; MaxIdleConns is raised to match;
//   - ForceAttemptHTTP2 is set.
//
// Everything else is http.DefaultTransport's (proxy from the environment,
// timeouts, keep-alives). If http.DefaultTransport has been replaced by
// something other than an *http.Transport, that RoundTripper is used as
// is. Wrap DefaultBase (for tracing, say) rather than making another
// Transport, to keep one connection pool; do not modify it.
func DefaultBase() http.RoundTripper { return defaultBase() }

var defaultBase = sync.OnceValue(func() http.RoundTripper {
	dt, ok := http.DefaultTransport.(*http.Transport)
	if !ok {
		return http.DefaultTransport
	}
	t := dt.Clone()
	n := max(100, 16*runtime.GOMAXPROCS(0))
	t.MaxIdleConnsPerHost = n
	t.MaxIdleConns = max(t.MaxIdleConns, n)
	t.ForceAttemptHTTP2 = true
	return t
})
