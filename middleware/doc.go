// Package middleware composes [net/http.RoundTripper] middleware around a
// [github.com/composiohttp/composiohttp.Transport]. Each concern lives in its own sub-package, so
// that importing one does not compile the others' dependencies:
//
//   - [github.com/composiohttp/composiohttp/middleware/otelproxy]:
//     OpenTelemetry spans and metrics (otelhttp)
//   - [github.com/composiohttp/composiohttp/middleware/logging]: one structured log/slog line per call, secrets redacted
//   - [github.com/composiohttp/composiohttp/middleware/cache]: HTTP caching keyed per connected account (httpcache)
//   - [github.com/composiohttp/composiohttp/middleware/retry]: retries with exponential backoff and Retry-After (backoff/v4),
//     a retry budget (a share of recent calls; shared through Redis with retry/redisbudget)
//   - [github.com/composiohttp/composiohttp/middleware/breaker]: a circuit breaker per upstream host, toolkit or account
//     (sony/gobreaker/v2), local or shared by many replicas through
//     Redis (breaker/redisbreaker)
//   - [github.com/composiohttp/composiohttp/middleware/sdktoken]: removes the placeholder token given to SDKs that insist
//     on one (slack-go, stripe-go), since the proxy adds the real one
//   - [github.com/composiohttp/composiohttp/middleware/ratelimit]: a token bucket per connected account, local
//     (x/time/rate) or shared by many replicas through Redis
//     (ratelimit/redislimit); and [github.com/composiohttp/composiohttp/middleware/ratelimit.OrgLimiter],
//     Composio's organisation-wide limit learnt from the X-RateLimit*
//     headers, which goes below the Transport, as its Base
//
// # Order
//
// [Chain] takes the middlewares outermost first. The recommended order is
//
//	otelproxy → logging → cache → retry → breaker → ratelimit → composiohttp.Transport
//
// so that tracing and logging see the whole call (with the number of
// retries and whether the cache answered), a cache hit skips everything
// below it, every retry attempt counts in the breaker and an open breaker
// ends retrying (its error is not retryable), a call the breaker refuses
// takes no rate-limit token, and every attempt waits for the rate limiter
// (which also pauses an account that the proxy or the upstream answered
// with 429 and Retry-After):
//
//	client := &http.Client{Transport: middleware.Chain(
//		&composiohttp.Transport{ConnectedAccountID: "ca_1"},
//		otelproxy.Middleware(...),
//		logging.Middleware(...),
//		cache.Middleware(...),
//		retry.Middleware(),
//		breaker.Middleware(),
//		ratelimit.Middleware(ratelimit.NewLocal(10, 20)),
//	)}
//
// NewLocal(10, 20) lets each connected account make 10 calls a second,
// and up to 20 at once after a pause (a fan-out of 20 concurrent calls
// does not queue); see "Choosing a rate and a burst" in package
// [github.com/composiohttp/composiohttp/middleware/ratelimit].
//
// # Unwrap
//
// Every RoundTripper of these packages has a method
//
//	Unwrap() http.RoundTripper
//
// returning the RoundTripper it wraps, as [errors.Unwrap] does for errors.
// Middleware that needs to know the Transport at the bottom of a chain
// follows it: cache derives the tenant of requests that select no account
// from the *composiohttp.Transport it finds so. A RoundTripper of your own
// placed between cache and the Transport should have one too; without it,
// such requests are not cached (see package cache).
//
// Setting a timeout on the request context (or http.Client.Timeout)
// bounds the whole call, retries and waits included: retry and ratelimit
// fail fast instead of starting a wait that would outlast it.
package middleware
