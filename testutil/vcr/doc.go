// Package vcr records a composiohttp.Transport's exchanges with
// Composio's proxy to a cassette file and replays them offline, on go-vcr
// (gopkg.in/dnaeon/go-vcr.v4). The Recorder sits where the Transport talks
// to Composio, as its Base, so a cassette holds what really crossed the
// wire: each envelope sent, the proxy's reply, and the binary_data
// downloads that followed.
//
// One test runs live, records, or replays, chosen by COMPOSIO_RECORD:
//
//	func TestIssues(t *testing.T) {
//		rec := vcr.Start(t, "testdata/issues") // testdata/issues.yaml
//		tr := rec.Transport()                  // Base: rec
//		tr.ConnectedAccountID = "ca_..."
//		gh := github.NewClient(&http.Client{Transport: tr})
//		...
//	}
//
//	go test ./...                                        # replay (default): offline, no key needed
//	COMPOSIO_RECORD=1 COMPOSIO_API_KEY=ak_... go test    # record against the real service
//	COMPOSIO_RECORD=live COMPOSIO_API_KEY=ak_... go test # passthrough: real service, nothing written
//
// "once" (record if the cassette is missing) and "new" (add what the
// cassette lacks) are go-vcr's other modes; see ParseMode.
//
// # Scrubbing
//
// Before anything touches disk (a BeforeSaveHook; nothing is written
// while recording) every interaction is scrubbed:
//
//   - the API key: x-api-key and x-user-api-key headers become
//     "[REDACTED]", and their values are replaced wherever else they
//     appear, in bodies included;
//   - custom_connection_data: the value of every key credentials.IsSecret
//     names (access_token, client_secret, password, private_key,
//     credentials_json, ...), at any depth, becomes "[REDACTED]", and those
//     values (and the basic-auth encoding of username:password) are
//     replaced wherever else they appear, such as an upstream echoing its
//     Authorization header;
//   - a JSON body: the value of every key credentials.IsSecret names
//     (password, client_secret, refresh_token, ...), at any depth, is
//     replaced wherever it appears, in the body, the reply and a
//     MismatchError's previews;
//   - a connected-accounts listing (WithUser's lookup): the secret
//     values of each item's state.val, data and params (the service
//     returns tokens there unless the project masks them) are replaced
//     wherever they appear;
//   - parameters: Authorization, Cookie, and any header or query
//     parameter whose name credentials.IsSecretParam calls secret (token,
//     key, secret, signature, sig, ...) or WithSecretParams names, and
//     what credentials.RedactQuery hides inside a query value or name
//     ("1;sig=…", also escaped: "1%3Bsig%3D…", raw and decoded,
//     credentials.QuerySecrets);
//   - the endpoint's (and the request path's) secret path parameters
//     ("/app;jsessionid=…", credentials.PathSecrets), wherever they
//     appear; replay compares endpoints scrubbed;
//   - signed URLs anywhere (a binary_body.url, links in a reply): the
//     values of secret query parameters (X-Amz-Signature,
//     X-Amz-Credential, X-Amz-Security-Token, sig, token, ...) and of
//     secret path parameters (a session a server mints into its links,
//     "/app;jsessionid=…", credentials.RedactPath) become
//     "[REDACTED]" (credentials.Redacted);
//   - any value registered with WithSecrets (at least 4 characters).
//
// Values are also replaced in their JSON-escaped and URL-escaped forms.
// What the Recorder returns while recording is the real reply; only the
// file is scrubbed.
//
// # Stable cassettes
//
// Cassettes are YAML, meant to be reviewed and edited by hand, and
// recording the same calls twice gives the same file: durations are 0;
// the proxy's address becomes https://backend.composio.dev (a fake's port
// changes every run); its X-Request-Id becomes req_recorded_<id> (also in
// error bodies); Date and the other DefaultVolatileHeaders (and
// WithVolatileHeaders) get fixed values, in the proxy's headers and in
// the upstream headers inside a reply; binary_data gets a stable URL
// under BinaryBaseURL derived from the call, and expires_at FixedExpiry,
// and the recorded download is filed under that URL so that replay finds
// it; a binary_body.url (an upload URL, minted per run) keeps only its
// scheme and host (https://host/recorded-upload), and time values of
// signed URLs elsewhere (exp, X-Amz-Date, ...) are normalised. Response bodies are otherwise kept byte for byte (data included),
// so that replay gives a caller exactly what recording did; response
// bodies over WithMaxBodySize (DefaultMaxBodySize) fail while recording
// instead of being written.
//
// # Matching
//
// A request is answered by the first unused recorded interaction whose
// Method, Endpoint, Parameters and Body (a digest) are those of the
// request, compared after scrubbing; for a proxy call these are the
// envelope's fields, so the account id, the API key and the proxy's
// address do not need to be the same when replaying; an upload by URL is
// compared by the URL's host and the content type. WithMatch picks other
// fields (Account, Path), WithIgnoreParameters drops parameters from the
// comparison, WithMatcher takes any go-vcr matcher. A request that
// matches nothing fails with a *MismatchError naming the closest recorded
// request and each difference.
package vcr
