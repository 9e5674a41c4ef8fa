// Package cache is HTTP caching middleware for composiohttp: standard
// HTTP caching (Cache-Control, Expires, ETag/If-None-Match and
// Last-Modified/If-Modified-Since revalidation, Vary, stale-if-error),
// done by github.com/gregjones/httpcache, with keys kept apart per tenant
// and the storage and reuse rules of RFC 9111 that httpcache lacks
// enforced around it (listed below).
//
// # Tenant safety
//
// httpcache keys entries by URL only. This package runs a fresh, cheap
// httpcache.Transport per request whose Cache is a view of the Store that
// prefixes every key with the request's tenant: composiohttp.Identity of
// the request context, or the default identity when the context selects no
// account (see WithDefaultIdentity). So one connected account is never
// served another's response, including responses marked private (httpcache
// is a private cache and stores them; with per-tenant keys each account has
// its own private cache). Keys are SHA-256 digests of tenant and URL, so no
// URL or secret ever reaches a store.
//
// The default identity is that of the *composiohttp.Transport the cache
// wraps, found by following Unwrap() http.RoundTripper methods down the
// chain (every middleware of this module has one; see package middleware):
// "account:<id>" for its ConnectedAccountID, the digest of its Connection,
// "session:<id>" for its SessionID, "user:<id>" for its UserID (the
// Transport's own order of precedence). When there is no
// WithDefaultIdentity and no such Transport (or one acting for nobody),
// the tenant of a request whose context
// selects no account is unknown, and the request goes to next uncached: the
// cache fails closed rather than share entries between tenants.
//
// Requests that carry their own Authorization header bypass the cache
// entirely unless WithAuthorizedRequests is given; then the header's value
// is part of the key too.
//
// Hits are marked with httpcache's X-From-Cache: 1 header and, when the
// request context carries a *composiohttp.CallInfo, CallInfo.CacheHit.
// A response revalidated with a 304 is a hit: its body comes from the cache.
//
// A GET response body larger than WithMaxEntryBytes (default
// DefaultMaxEntryBytes, 1 MiB) is neither buffered nor stored: it streams
// to the caller as if uncached. A body of known length (Content-Length)
// is judged by it; one of unknown length (chunked, or decompressed by
// net/http) is read ahead, up to the limit, before RoundTrip returns, to
// learn whether it fits; text/event-stream responses are never read
// ahead nor cached. On a miss the caller sees the upstream's headers as
// they came (less X-From-Cache and X-Varied-*, below); a hit carries the
// stored header, whose Cache-Control is the normalized single line below.
//
// A store that fails degrades to no caching: the request goes to the next
// RoundTripper as if nothing were cached, and the error goes to the
// handler set with WithErrorHandler.
//
// # Storage and reuse rules
//
// httpcache stays the engine; the wrapper enforces these rules before
// httpcache sees a request or a response, and again before a stored
// response is served. Each names the test that checks it.
//
// Storage: what is stored, and under which key.
//
//   - Every entry is keyed by its tenant: one account, connection, user or
//     session never gets another's entry, private ones included
//     (TestHitMissAndTenants, TestPrivateStaysPerAccount,
//     TestConnectionsKeptApart, TestE2ETwoAccountsNeverShare,
//     TestDefaultIdentityThroughChain).
//   - A request with no known tenant is not cached: no store access at
//     all (TestUnknownTenantNotCached, TestDefaultIdentityFromTransport,
//     TestDefaultIdentityFromUserTransport,
//     TestDefaultIdentityOfConnectionTransport).
//   - Only GET and HEAD requests without a body or Range are cached;
//     those with their own Authorization only with WithAuthorizedRequests,
//     keyed by it (TestHitMissAndTenants, TestE2EAuthorizationNotCached,
//     TestPassThrough).
//   - A request with validators of its own (If-None-Match,
//     If-Modified-Since, If-Match, If-Unmodified-Since, If-Range) passes
//     the cache by: its answer, often a 304, is the caller's, never stored
//     as the URL's entry nor replaced with a stored response
//     (TestCallerConditionalRequest).
//   - A credential is never stored: httpcache sees, and stores as
//     X-Varied-<Name> for a response that varies on it, a SHA-256 digest
//     of the request's Authorization (with WithAuthorizedRequests) and of
//     every header logging redacts (credentials.IsSecret:
//     Proxy-Authorization, Cookie, X-Api-Key, Private-Token,
//     X-Shopify-Access-Token, any name with auth, token, key, secret,
//     session, ...), salted with the tenant, so Vary still
//     matches per caller, on every replica sharing a store; next gets the
//     real values (TestAuthorizationNeverStored,
//     TestCredentialHeadersNeverStored, and in Redis rediscache's
//     TestAuthorizationNeverInRedis).
//   - Cache-Control is read from every field line, directive names in
//     any case (RFC 9111 §5.2): no-store in the request or the response
//     is never stored; httpcache is handed the field as one line with
//     lower-case names, so that max-age, no-cache and the others count
//     wherever and however they are written (TestStorageRules,
//     TestParseCacheControl, TestNormalCacheControl, FuzzCacheControl).
//   - A response with Vary: * is never stored (RFC 9111 §4.1)
//     (TestStorageRules).
//   - A 206 Partial Content is never stored as the answer to a request
//     without Range (RFC 9111 §3.3) (TestStorageRules).
//   - A response with Set-Cookie is never stored, in any mode: its value
//     is often a session, a credential, which must not reach a store nor
//     be replayed to a later call (as nginx's proxy cache does); the
//     caller gets it as it came (TestStorageRules).
//   - A body over WithMaxEntryBytes, or a text/event-stream, is neither
//     buffered nor stored (TestLargeBodyNotBuffered, TestSmallBodyCached).
//   - A response without a Date gets one on arrival (RFC 9110 §6.6.1), so
//     that its age can be computed (TestDateAddedOnArrival).
//   - A proxy error is never stored (TestE2EProxyErrorNotCached).
//   - A 5xx is never stored, whatever freshness it carries (max-age,
//     Expires), and never replaces nor removes a stored entry: after an
//     upstream 5xx or a proxy error with a 5xx status, the stored entry
//     is the one before it (TestServerErrorNeverStored).
//   - A successful POST, PUT, PATCH or DELETE drops the tenant's entries
//     for its URL (RFC 9111 §4.4) (TestUnsafeMethodInvalidates).
//   - A failing store degrades to no caching (TestBrokenStoreDegrades,
//     TestE2EBrokenStoreDegrades).
//
// Reuse: when a stored response answers.
//
//   - A stored entry is checked again before httpcache may serve it: one
//     with Vary: *, no-store (any case, any line), Set-Cookie, or status
//     206 or 5xx, written by another program sharing the store or an
//     older version, is never served (TestStoredEntryRechecked,
//     TestReusable).
//   - Freshness, revalidation (ETag, Last-Modified) and Vary matching are
//     httpcache's, on the normalized Cache-Control of the request and the
//     response (TestE2EHitWithoutProxyCall, TestE2EETagRevalidation,
//     TestE2ELastModifiedRevalidation, TestVary, TestStorageRules).
//   - Only real hits are marked: the upstream's X-From-Cache is removed;
//     httpcache's X-Varied-* headers, which hold the request values a
//     response varies on, never reach the caller, and an upstream's are
//     removed before httpcache sees them, so it cannot steer Vary
//     matching (TestUpstreamCannotFakeHit, TestVariedHeadersNeverExposed).
//   - A request's max-stale never makes a stale response with
//     must-revalidate or proxy-revalidate usable without validation
//     (RFC 9111 §5.2.2.2); httpcache's freshness then ignores it
//     (TestMaxStaleAndMustRevalidate).
//   - stale-if-error (RFC 5861) needs delta-seconds: a bare
//     stale-if-error, or one without a number, is ignored. A stale entry
//     answers only a 500, 502, 503 or 504 (from the upstream or the
//     proxy) or a transport error (composiohttp.CodeUnreachable), never a
//     proxy 4xx such as an account that is not active, a bad API key or a
//     rate limit, nor a 501 or the caller's own cancellation; and only
//     while the entry's age, from its Date, is under the stated seconds
//     (the request's stale-if-error=N, else the response's). That window
//     is httpcache's and stricter than RFC 5861's N seconds past expiry.
//     A response with must-revalidate, proxy-revalidate or no-cache is
//     never served stale (RFC 9111 §4.2.4).
//     Otherwise the caller gets the failure, and the entry is dropped
//     after a transport error or a proxy 4xx, kept after a 5xx (rule
//     above) (TestStaleIfError, TestWithinStaleWindow). The response the
//     stale entry replaced is closed (TestDroppedResponseClosed).
//   - A request with only-if-cached (any case, any line) gets a stored
//     response only if it may be reused without contacting the upstream:
//     fresh, or stale within the request's max-stale (never one with
//     must-revalidate or no-cache, nor of another Vary variant, nor with
//     the request's no-cache), else a 504 Gateway Timeout; next is never
//     called, whatever the method, and the store is left as it is; a
//     stale-if-error window never applies, as no error happened
//     (RFC 9111 §5.2.1.7) (TestOnlyIfCached, TestOnlyIfCachedClosesBody).
package cache
