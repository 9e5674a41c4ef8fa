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
