package logging_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/middleware/logging"
)

// composioStub answers Composio's API as the real service may: a
// connected-accounts listing carrying the account's credentials in
// state.val and data (the service returns them unless the project masks
// them), and proxy replies from reply.
type composioStub struct {
	status int
	reply  string
}

func (s composioStub) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	status, body := s.status, s.reply
	if strings.HasSuffix(r.URL.Path, "/connected_accounts") {
		status, body = 200, `{"items":[{"id":"ca_1","user_id":"alice","toolkit":{"slug":"github"},"status":"ACTIVE",`+
			`"state":{"authScheme":"OAUTH2","val":{"status":"ACTIVE","access_token":"gho_LISTED_access_1","refresh_token":"ghr_LISTED_refresh_1"}},`+
			`"data":{"access_token":"gho_LISTED_access_1"},"params":{"client_secret":"LISTED_client_secret_1"}}],"next_cursor":null}`
	}
	return &http.Response{StatusCode: status, Status: http.StatusText(status), Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
}

// TestDumpHidesWhatComesBack: a dump shows none of the secrets Composio's
// replies may carry: the credentials of a connected-accounts listing (any
// key, at any depth), and the API key, a secret header or a connection's
// secret quoted back in a proxy error or in upstream data under a name
// that is not secret.
func TestDumpHidesWhatComesBack(t *testing.T) {
	t.Parallel()
	const key, hdr, tok = "ak_DUMP_echo_key_1", "DUMP_custom_header_1", "sk_DUMP_conn_token_1"
	conn := &credentials.Connection{AuthScheme: credentials.BearerToken, ToolkitSlug: "stripe",
		Val: credentials.Val{Token: tok, BaseURL: "https://api.stripe.com"}}
	echo := "you sent " + key + " and " + hdr + " and " + tok
	cases := []struct {
		name   string
		ctx    context.Context
		status int
		reply  string
	}{
		{"listing", composiohttp.WithToolkit(composiohttp.WithUser(context.Background(), "alice"), "github"), 200,
			`{"status":200,"data":{},"headers":{}}`},
		{"proxy error", composiohttp.WithConnection(context.Background(), conn), 401,
			`{"error":{"message":"` + echo + `","request_id":"` + key + `","errors":["` + tok + `"]}}`},
		{"upstream data", composiohttp.WithConnection(context.Background(), conn), 200,
			`{"status":200,"data":{"echo":"` + echo + `","list":["` + tok + `"]},"headers":{"X-Echo":"` + tok + `"}}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var out lockedBuffer
			tr := &composiohttp.Transport{APIKey: key, BaseURL: "https://backend.example.com",
				Header: http.Header{"X-Auth-Token": {hdr}},
				Base:   logging.Dump(&out, composioStub{status: c.status, reply: c.reply})}
			req, _ := http.NewRequestWithContext(c.ctx, "GET", "https://api.github.com/user", nil)
			if resp, err := tr.RoundTrip(req); err == nil {
				resp.Body.Close()
			}
			dump := out.String()
			if dump == "" {
				t.Fatal("nothing dumped")
			}
			for _, secret := range []string{key, hdr, tok, "gho_LISTED_access_1", "ghr_LISTED_refresh_1", "LISTED_client_secret_1"} {
				if strings.Contains(dump, secret) {
					t.Errorf("dump shows %q:\n%s", secret, dump)
				}
			}
		})
	}
}

// TestDumpCurlLineHidesBaseURLSecrets: a BaseURL with user info or a
// secret query parameter (a gateway in front of Composio) shows neither
// in the dump, the curl line included.
func TestDumpCurlLineHidesBaseURLSecrets(t *testing.T) {
	t.Parallel()
	var out lockedBuffer
	tr := &composiohttp.Transport{APIKey: "ak_x_1", BaseURL: "https://gw_user:GW_password_1@gateway.example.com?api_key=GW_query_key_1",
		ConnectedAccountID: "ca_1", Base: logging.Dump(&out, composioStub{status: 200, reply: `{"status":200,"data":{}}`})}
	req, _ := http.NewRequest("GET", "https://api.github.com/user", nil)
	if resp, err := tr.RoundTrip(req); err == nil {
		resp.Body.Close()
	}
	dump := out.String()
	if !strings.Contains(dump, "curl ") {
		t.Fatalf("no curl line:\n%s", dump)
	}
	for _, secret := range []string{"GW_password_1", "GW_query_key_1"} {
		if strings.Contains(dump, secret) {
			t.Errorf("dump shows %q:\n%s", secret, dump)
		}
	}
}

// headerStub answers every call with status 200, the headers h and the
// body reply.
type headerStub struct {
	h     http.Header
	reply string
}

func (s headerStub) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	return &http.Response{StatusCode: 200, Status: "200 OK", Header: s.h.Clone(),
		Body: io.NopCloser(strings.NewReader(s.reply)), Request: r}, nil
}

// TestDumpRedactsHeaderURLs: a signed URL in a Location, Content-Location,
// Link or Refresh header shows no signature in a dump, wherever Dump
// prints the header (the reply's headers, the upstream headers inside the
// reply envelope, the curl line), by the same rule as the log line's
// headers; the rest of the header stays readable.
func TestDumpRedactsHeaderURLs(t *testing.T) {
	t.Parallel()
	const signed = "https://bucket.s3.amazonaws.com/obj?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA_CRED_SECRET%2F20260101&X-Amz-Signature=SIGSECRET123"
	secrets := []string{"SIGSECRET123", "AKIA_CRED_SECRET"}
	envelope := func(h string) string { return `{"status":302,"data":{},"headers":` + h + `}` }
	cases := []struct {
		name   string
		reply  http.Header // the HTTP reply's headers
		body   string
		header http.Header // Transport.Header, sent to Composio (the curl line)
		want   string
	}{
		{name: "reply Location", reply: http.Header{"Location": {signed}}, body: envelope(`{}`), want: "# Location: https://bucket.s3.amazonaws.com/obj?"},
		{name: "reply Content-Location", reply: http.Header{"Content-Location": {signed}}, body: envelope(`{}`), want: "# Content-Location: https://bucket.s3.amazonaws.com/obj?"},
		{name: "reply Link", reply: http.Header{"Link": {`<` + signed + `>; rel="next"`}}, body: envelope(`{}`), want: `rel="next"`},
		{name: "reply Refresh", reply: http.Header{"Refresh": {"0; url=" + signed}}, body: envelope(`{}`), want: "# Refresh: 0; url=https://bucket.s3.amazonaws.com/obj?"},
		{name: "envelope Location", body: envelope(`{"Location":"` + signed + `"}`), want: `"Location": "https://bucket.s3.amazonaws.com/obj?`},
		{name: "envelope location lower case", body: envelope(`{"location":"` + signed + `"}`), want: `"location": "https://bucket.s3.amazonaws.com/obj?`},
		{name: "envelope Link", body: envelope(`{"Link":"<` + signed + `>; rel=\"next\""}`), want: `rel=\"next\"`},
		{name: "envelope Link as a list", body: envelope(`{"Link":["<` + signed + `>; rel=\"next\""]}`), want: `rel=\"next\"`},
		{name: "envelope Refresh", body: envelope(`{"Refresh":"0; url=` + signed + `"}`), want: `"Refresh": "0; url=https://bucket.s3.amazonaws.com/obj?`},
		{name: "curl line Link", body: envelope(`{}`), header: http.Header{"Link": {`<` + signed + `>; rel="next"`}}, want: `-H 'Link: <https://bucket.s3.amazonaws.com/obj?`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var out lockedBuffer
			tr := &composiohttp.Transport{APIKey: "ak_x_1", BaseURL: "https://backend.example.com", ConnectedAccountID: "ca_1",
				Header: c.header, Base: logging.Dump(&out, headerStub{h: c.reply, reply: c.body})}
			req, _ := http.NewRequest("GET", "https://api.github.com/user", nil)
			// the Transport refuses a list-valued upstream header
			// after Dump has printed it
			if resp, err := tr.RoundTrip(req); err == nil {
				resp.Body.Close()
			}
			dump := out.String()
			for _, secret := range secrets {
				if strings.Contains(dump, secret) {
					t.Errorf("dump shows %q:\n%s", secret, dump)
				}
			}
			if !strings.Contains(dump, c.want) {
				t.Errorf("dump lacks %q:\n%s", c.want, dump)
			}
		})
	}
}
