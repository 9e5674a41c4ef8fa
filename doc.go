// Package composiohttp sends ordinary HTTP requests through Composio's proxy
// endpoint (POST {BaseURL}/api/v3.1/tools/execute/proxy), authenticated as
// a user's connected account, so that a service can call GitHub, Slack,
// Google, Stripe and other APIs without ever holding the user's tokens.
//
// [Transport] is an [http.RoundTripper]: hand an [*http.Client] built on it to
// existing code or to a third-party SDK and requests to
// https://api.github.com/... go through the proxy unchanged:
//
//	client := composiohttp.NewClient(&composiohttp.Transport{
//		ConnectedAccountID: "ca_...", // API key from COMPOSIO_API_KEY
//	})
//	gh := github.NewClient(client)
//
// # Mapping
//
// The method, the URL (absolute, or relative to the account's base URL),
// query values and headers (minus hop-by-hop headers, Host,
// Content-Length and Accept-Encoding) become the proxy envelope's method,
// endpoint and parameters. A valid JSON body travels byte for byte as "body";
// any other body (also one labelled JSON that is not valid JSON) as base64
// in "binary_body", encoded while the request is
// written; a body over [MaxInlineBody] goes through [Transport.Upload] as a URL,
// after the Transport has checked that the upload read the whole body and
// returned an absolute http(s) URL ([*UploadError] otherwise).
// The proxy's reply becomes the upstream's response: its status, headers
// and body (JSON as received, text as text, binary bodies streamed from a
// signed URL when read). An upstream 4xx or 5xx is an ordinary response.
//
// # Errors
//
// [CodeOf] sorts any failure into a [Code] (bad API key, unknown or inactive
// account, origin mismatch, rate limited, payload too large, proxy
// unavailable or unreachable, ...), so that callers branch without
// learning the types below; [IsRetryable] says whether sending the call again
// may succeed, by one table ([RetryableStatus]: 408, 429, 500, 502, 503,
// 504) for the proxy's statuses and the upstream's alike.
//
// A failure of the proxy itself is an [*Error] ([errors.As] works through
// [*url.Error]), whose Slug is one of the Slug constants. No reply at all
// from the proxy is a [*ProxyUnreachableError] ([ErrProxyUnreachable]) naming
// the proxy's host. A request refused before anything is sent matches a
// sentinel ([ErrUnsupportedMethod], [ErrBodyNotAllowed], [ErrBodyTooLarge],
// [ErrNoAPIKey], [ErrNoAuthContext], [ErrBadRequest], [ErrNilRequest]);
// errors.Is(err, ErrBodyTooLarge) also matches the proxy's own "too large"
// replies. A large body that [Transport.Upload] failed to store, or stored
// against its contract, is an [*UploadError] ([ErrUpload]). A reply that
// is not a valid envelope is an [*EnvelopeError]; a
// binary body that cannot be fetched whole, a [*BinaryError] from Read. No
// error carries the API key or a credential.
//
// # Tenants
//
// [WithConnectedAccount] and [WithConnection] choose the account per request,
// overriding the Transport's own; [WithUser] (the toolkit from [WithToolkit]
// or the URL's host, through Transport.Toolkits) looks up the user's account,
// and [WithSession] lets a tool-router session choose. [Identity] names the
// tenant for middleware that must keep tenants apart. [CallInfo] collects
// what the Transport and the middleware (package middleware and its
// sub-packages) learn about a call, for tracing and logging.
//
// # SDKs that insist on a token
//
// The proxy adds the account's credential; an SDK that refuses to start
// without a token of its own (slack-go, stripe-go) is given
// [github.com/composiohttp/composiohttp/middleware/sdktoken.Placeholder],
// and the Transport is wrapped in [github.com/composiohttp/composiohttp/middleware/sdktoken.New],
// which removes the placeholder before the request leaves:
//
//	client := &http.Client{Transport: sdktoken.New(&composiohttp.Transport{ConnectedAccountID: "ca_slack"})}
//	api := slack.New(sdktoken.Placeholder, slack.OptionHTTPClient(client))
//
// # Tests
//
// Package [github.com/composiohttp/composiohttp/testutil] has an in-process
// fake of the proxy for tests, modelled on [net/http/httptest], with
// upstream fakes to import ([github.com/composiohttp/composiohttp/testutil.Echo],
// [github.com/composiohttp/composiohttp/testutil/fakegithub],
// [github.com/composiohttp/composiohttp/testutil/fakeslack]) and a way to
// run a whole middleware chain, Retry-After waits included, without
// waiting (testing/synctest with the fake in process).
package composiohttp
