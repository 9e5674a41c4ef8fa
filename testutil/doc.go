// Package testutil is an in-process fake of Composio's proxy endpoint,
// modelled on [net/http/httptest]: [NewServer] starts it on a loopback port for
// the length of a test, and [Server.Client] returns an [*http.Client] whose
// [composiohttp.Transport] talks to it.
//
// The fake serves POST /api/v3/tools/execute/proxy and
// POST /api/v3.1/tools/execute/proxy the way the real service does:
//
//   - API keys: the project key (Server.APIKey) in x-api-key, or the user key
//     (WithUserAPIKey) in x-user-api-key. A missing or wrong key, or a user
//     key (uak_...) sent in x-api-key, is a 401.
//   - The envelope is validated strictly: a Content-Type other than
//     application/json, unknown fields, wrong types, a method outside GET
//     POST PUT DELETE PATCH HEAD, a missing endpoint, a bad parameter (a
//     value that is not a string, a header parameter named Host or a
//     hop-by-hop header such as Connection or Keep-Alive), both body and
//     binary_body, an empty or invalid binary_body.base64 are a 400 (slug
//     ValidationError, code 10400) whose errors[] names each problem;
//     binary_body.base64 over composiohttp.MaxInlineBody decoded bytes is a
//     400 with slug PayloadTooLarge. See "Where the service is not known"
//     below for the cases the fake decides itself.
//   - Neither connected_account_id nor custom_connection_data is a 400
//     MissingAuthContext; both at once is a 400 ValidationError. An unknown
//     account is a 404 ConnectedAccountNotFound, an account whose Status is
//     not "" or "ACTIVE" a 422 ConnectedAccountNotActive.
//   - The upstream base URL is the account's BaseURL, else val.base_url,
//     else the base URL of its toolkit in the toolkit registry
//     (schemes.DefaultToolkits, or WithToolkits), placeholders filled from
//     val ("https://{subdomain}.zendesk.com"): Account{Toolkit: "github"}
//     calls "/user" at https://api.github.com/user. A placeholder field
//     missing is a 422 InvalidConnectionData for an account and a 400 for
//     custom_connection_data; no base URL at all a 400 for
//     custom_connection_data and, for an account without a Handler, a 502.
//   - An absolute endpoint must share scheme and registrable domain (eTLD+1
//     by the ICANN section of golang.org/x/net/publicsuffix, so that
//     gmail.googleapis.com may call www.googleapis.com as Composio documents;
//     IP addresses and single-label hosts must match exactly; ports are
//     ignored) with the base URL, else 400 OriginMismatch. A relative
//     endpoint is resolved against the base URL, keeping its path
//     ("https://x/api" + "/v1/y" is "https://x/api/v1/y").
//   - The upstream request gets the envelope's method, endpoint, query and
//     header parameters (in order), a body (body as JSON, content type
//     application/json unless a Content-Type header parameter says
//     otherwise; binary_body.base64 decoded; binary_body.url fetched with a
//     GET), and the credentials exactly as the adapter of the auth scheme in
//     the schemes registry produces them (schemes.Default; see
//     ApplyCredentials, WithSchemes, WithCredentialApplier): Authorization
//     for the OAuth 2 family, BEARER_TOKEN and BASIC, the toolkit's header
//     or query parameter for API_KEY, an HMAC-SHA1 signature for OAUTH1,
//     an installation or access token for SERVICE_ACCOUNT and
//     GOOGLE_SERVICE_ACCOUNT (which exchange credentials at a token
//     endpoint: point their adapters at a test server with WithSchemes).
//     An auth scheme without an adapter is a 501 AuthSchemeNotSupported; a
//     field the scheme requires missing (credentials Connection.Validate,
//     or the adapter) a 422 InvalidConnectionData whose message names the
//     scheme and the field; other credentials the adapter cannot apply (a
//     refused token exchange, a key that does not parse) a 422 too. These
//     are checked when a call uses the account, so tests can add broken
//     accounts. The errors of the built-in adapters, quoted in errors[],
//     never hold a credential.
//   - The upstream is the account's Handler, in process (the base URL is
//     then the nominal origin: when neither BaseURL, val.base_url nor a
//     toolkit gives one, DefaultAccountBaseURL), else a handler registered
//     with AddUpstream for the endpoint's origin, else the network.
//     Redirects are not followed: a 3xx arrives in the envelope.
//   - The reply is a 200 envelope whatever the upstream status: JSON bodies
//     (application/json, */*+json) as data, verbatim; text (text/*, XML,
//     form data, or valid UTF-8 without a content type) as a JSON string;
//     anything else, a body labelled JSON that is not valid JSON included
//     (an "OK", an HTML error page), as binary_data, stored on the fake
//     behind a signed URL (GET /binary/<id>?exp=..&sig=..) that expires
//     after WithBinaryTTL and then answers 403 like S3. An empty body has
//     no data.
//   - An unreachable upstream is a 502 BadGateway, one slower than
//     WithUpstreamTimeout a 504 UpstreamTimeout, one whose reply body is
//     over WithMaxUpstreamReply (DefaultMaxUpstreamReply, 64 MiB) a 502
//     BadGateway naming the limit (see "Where the service is not known"). A request body over
//     MaxEnvelope, or a binary_body.url whose file is, is a 413
//     PayloadTooLarge; a binary_body.url that cannot be fetched a 400
//     BinaryBodyFetchFailed.
//
// # Where the service is not known
//
// The fake follows Composio's published request schema (composio-base-py,
// src/composio_client/types/tool_proxy_params.py): parameter values are
// strings, binary_body.base64 has a minimum length of 1. Where the
// service's behaviour is not documented, the fake takes the stricter
// reading, so that a client that passes against the fake does not depend
// on a leniency the service may not have:
//
//   - An envelope not sent as application/json (text/plain, form data, no
//     Content-Type) is a 400 ValidationError. A server whose JSON parser
//     skips other content types sees no envelope and fails validation;
//     the real status may be 400 or 415.
//   - A header parameter named Connection, Proxy-Connection, Keep-Alive,
//     TE, Trailer, Transfer-Encoding, Upgrade, Proxy-Authorization or
//     Proxy-Authenticate is a 400. An intermediary must not forward these
//     (RFC 9110 section 7.6.1); the service may drop them or fail on them
//     (Node's HTTP client, for one, refuses several). composiohttp's
//     Transport never sends them.
//   - A header parameter named Host is a 400: the endpoint decides the
//     host, and the service may ignore such a parameter or fail.
//     composiohttp's Transport never sends it.
//   - An upstream body labelled JSON that is not valid JSON comes back as
//     binary_data, so that the caller gets the upstream's bytes. If the
//     service sends such a body as a JSON string instead, no client can
//     tell it from an upstream body that is a JSON string, and
//     composiohttp returns it as that JSON string, quotes included.
//   - An upstream reply body over WithMaxUpstreamReply (default
//     DefaultMaxUpstreamReply, the 64 MiB that composiohttp's Transport
//     reads of a proxy reply) is a 502 BadGateway whose message names the
//     limit, as a gateway answers an upstream reply it will not relay.
//     The service's own limit, and its answer past it, are not
//     documented: it may be higher, or answer otherwise (a 413 or a 500).
//
// The command testutil/cmd/conformance runs each of these cases against
// the service and the fake and reports where they differ, except the
// upstream reply limit: finding the service's would take replies of tens
// of MiB through it.
//
// Every reply carries a request id, in the X-Request-Id header and in
// error.request_id: the caller's X-Request-Id if it sent one, else
// "req_<n>". Error replies have the real shape,
// {"error":{message, code, slug, status, request_id, suggested_fix, errors}},
// with code 10000+status (10400 for a 400, 10404 for a 404, ...); the
// slugs are the root package's constants (composiohttp.SlugOriginMismatch,
// ...), so that a test branches on them, or on composiohttp.CodeOf, as
// production code does.
//
// Composio's organisation rate limit: every reply of an API path carries
// X-RateLimit, X-RateLimit-Remaining and X-RateLimit-Window-Size ("600s").
// WithOrgLimit(n, window) enforces n requests per fixed window, by the
// fake's clock: past it, a 429 with Retry-After (seconds until the window
// ends) and the flat body {"message": "Rate limit exceeded. Limit: ..."}.
// ExhaustOrgLimit uses up the current window at once (the "exhaust the
// org limit" scenario); InjectOutage scripts proxy 503s in a row, enough
// to open a circuit breaker (the "open the breaker" scenario).
//
// Beyond the proxy, the fake serves what a client needs to address
// tenants by user id (accounts.go, sessions.go):
//
//   - GET /api/v3.1/connected_accounts (and /api/v3/...) lists accounts in
//     Composio's shape (items, next_cursor, total_items, current_page,
//     total_pages), newest first (order_by=updated_at to order by update),
//     filtered by user_ids, toolkit_slugs, statuses, connected_account_ids
//     and auth_config_ids, each comma-separated or repeated; cursor and
//     limit (DefaultListLimit, at most MaxListLimit) page it. A query
//     parameter the real API does not know is ignored, as the service
//     ignores it (the listing then holds every account), and recorded:
//     AccountListings and UnknownListParams let a test assert its client
//     sent none. Items carry user_id, alias, word_id, toolkit.slug,
//     status, auth_config, created_at and updated_at; never credentials.
//   - POST /api/v3.1/tool_router/session (and /api/v3/...) creates a
//     session for user_id, optionally pinning connected_accounts and
//     auth_configs per toolkit (a pinned account must exist, be the user's
//     and be of that toolkit). POST
//     /api/v3.1/tool_router/session/{id}/proxy_execute is its proxy: the
//     plain envelope's validation, toolkit_slug required (missing: 400
//     ValidationError) and connected_account_id refused; the account is
//     the pinned one, else the user's most recently connected ACTIVE
//     account of the toolkit (of the pinned auth config, if any); none is
//     a 404 ConnectedAccountNotFound naming user and toolkit, an unknown
//     session a 404 ToolRouterSessionNotFound.
//
// Accounts carry UserID, Alias, WordID, AuthConfigID, CreatedAt and
// UpdatedAt for these.
//
// Inject scripts faults (proxy errors, latency, malformed envelopes,
// dropped connections, upstream timeouts), for every call, N calls, or the
// calls of one account. Requests and Downloads record what the fake
// received, for assertions.
//
// # Bounds, for a fake that serves a shared machine
//
// The fake may serve a long-running process (testutil/cmd/fakeproxy on a
// shared host or in CI), where a hostile or runaway client must not make
// it the weak point:
//
//   - The API key is checked before a body is read: a request with a
//     missing or wrong key is answered 401 without reading its body, and
//     is not recorded (nor is a connected-accounts listing without a valid
//     key). A method other than POST is answered 405 unread.
//   - Bodies are read into buffers that grow with the bytes that arrive:
//     a declared Content-Length sizes at most the first 64 KiB, so that a
//     request declaring 250 MB and sending one byte costs a small buffer.
//     A body over MaxEnvelope (WithMaxEnvelope lowers it) is a 413,
//     recorded without its body.
//   - Each log (Requests, Calls, Downloads, AccountListings) keeps at most
//     DefaultLogEntries entries and DefaultLogBytes bytes of bodies,
//     headers and URLs (WithRequestLog changes both), dropping the oldest
//     first; Dropped counts what was dropped, and ResetRecorded clears the
//     logs and the counts (Reset also clears faults, stored binary bodies
//     and the org limit's count).
//   - An upstream's reply is read up to WithMaxUpstreamReply bytes (by
//     default DefaultMaxUpstreamReply, 64 MiB), an in-process handler's
//     as it writes, an HTTP reply one byte past the limit at most (a
//     Content-Length over it is refused unread); past it the call is a
//     502 BadGateway. The file a binary_body.url names is a request body:
//     read whole before the upstream is called, in process or over HTTP,
//     up to MaxEnvelope (WithMaxEnvelope), the bound of any request, as
//     an upstream reply is up to its limit; past it the call is a 413
//     PayloadTooLarge and the upstream is not called.
//   - The binary bodies kept behind signed URLs (binary_data replies,
//     Upload) stay within DefaultBinaryStore bytes (WithBinaryStore),
//     the oldest dropped first (their URLs then answer 404 NoSuchKey),
//     and none is kept longer than an hour after its URL expires.
//
// Read and idle timeouts and a cap on connections belong to the
// http.Server that serves the fake; fakeproxy sets them.
//
// # Upstreams without handlers, and assertions
//
// Server.On registers upstream responders by method and URL pattern, as
// jarcoal/httpmock does, so that a simple test needs no hand-written
// handler; Calls, CallCount and LastCall assert on the upstream calls the
// fake made, whoever answered them:
//
//	srv.AddAccount(testutil.Account{ID: "ca_1", Toolkit: "github", AuthScheme: credentials.OAuth2,
//		Val: credentials.Val{AccessToken: "gho_test"}})
//	srv.On("GET", "https://api.github.com/repos/{owner}/{repo}").RespondJSON(200, map[string]any{"id": 1})
//	// ... run the code under test ...
//	if srv.CallCount("GET", "https://api.github.com/repos/{owner}/{repo}") != 1 { ... }
//	last, _ := srv.LastCall("POST", "/repos/{owner}/{repo}/issues") // last.Body, last.Header
//
// [Echo] is a generic upstream that records what it got and answers with
// it; the packages [github.com/composiohttp/composiohttp/testutil/fakegithub]
// and [github.com/composiohttp/composiohttp/testutil/fakeslack] are small
// fakes of GitHub's REST API and Slack's Web API. WithStripFalsyJSON reproduces the real
// proxy's dropping of falsy JSON fields (Composio issue #3324), so that a
// test can show that composiohttp.Transport.JSONAsBinary protects a
// request from it.
//
// # Tests that never wait: a whole chain in a synctest bubble
//
// A Retry-After: 1 makes retry wait, and the rate limiters pause too
// (ratelimit's per-account pause, OrgLimiter's). Injecting a sleep into
// one layer (retry.WithSleep) leaves the others waiting in real time.
// Run the test in a [testing/synctest] bubble instead, with the fake in
// process ([Server.InProcessTransport]: no socket, so the bubble's clock
// advances whenever every goroutine waits): every layer's wait then
// passes at once, with no option to set.
//
//	synctest.Test(t, func(t *testing.T) {
//		org := &ratelimit.OrgLimiter{}
//		srv := testutil.NewUnstartedServer()
//		srv.URL = "http://composio.test" // names the signed binary URLs only
//		defer srv.Close()
//		srv.AddAccount(fakegithub.Account("ca_1", "gho_test"))
//		srv.Inject(testutil.Fault{Status: 429, RetryAfter: "1", Times: 1})
//		tr := srv.InProcessTransport()
//		tr.ConnectedAccountID = "ca_1"
//		tr.Base = org.Transport(tr.Base) // an OrgLimiter wraps the fake's Base, not nil (the network)
//		client := &http.Client{Transport: middleware.Chain(tr, retry.Middleware(), ratelimit.Middleware(ratelimit.NewLocal(10, 20)))}
//		// client.Get(...) takes 1s of the bubble's time, about a millisecond of wall time
//	})
//
// The full production chain so (otelproxy, logging, cache, retry,
// breaker, ratelimit, OrgLimiter) is TestProductionChainRetryAfterFast
// in the module's middleware/production_test.go. Without synctest, give
// every layer one clock: WithClock and WithSleep here, retry.WithClock
// and retry.WithSleep, ratelimit.Local's and OrgLimiter's Now and Sleep
// (middleware's ExampleChain_production).
//
// The command testutil/cmd/fakeproxy serves the same fake on an address, for
// clients written in other languages.
package testutil
