package testutil_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/schemes"
	"github.com/composiohttp/composiohttp/testutil"
)

// FuzzServeHTTP feeds arbitrary request bodies to the fake: it must answer
// every one with a valid JSON reply, never panic, and never fail with a 500.
func FuzzServeHTTP(f *testing.F) {
	for _, seed := range []string{
		``, `null`, `[]`, `{}`, `{"endpoint":`,
		`{"connected_account_id":"ca","endpoint":"/x","method":"GET"}`,
		`{"connected_account_id":"ca","endpoint":"https://api.example.com/x?a=1","method":"POST","body":{"a":[1,false,{}]}}`,
		`{"connected_account_id":"ca","endpoint":"/x","method":"PUT","binary_body":{"base64":"AAE=","content_type":"a/b"}}`,
		`{"connected_account_id":"ca","endpoint":"/x","method":"GET","parameters":[{"name":"a","value":"1","type":"query"},{"name":"B","value":"c","type":"header"}]}`,
		`{"endpoint":"/x","method":"GET","custom_connection_data":{"authScheme":"NO_AUTH","val":{"base_url":"https://api.example.com"}}}`,
		`{"connected_account_id":"ca","endpoint":"//x/%zz","method":"GET"}`,
		`{"endpoint":"/api/v2/x","method":"GET","custom_connection_data":{"authScheme":"API_KEY","toolkitSlug":"zendesk","val":{"api_key":"k","subdomain":"acme","username":"u"}}}`,
		`{"endpoint":"/x?a=1","method":"POST","custom_connection_data":{"authScheme":"OAUTH1","toolkitSlug":"twitter","val":{"oauth_token":"t","oauth_token_secret":"s","consumer_key":"c"}}}`,
		`{"endpoint":"/x","method":"GET","custom_connection_data":{"authScheme":"OAUTH2","toolkitSlug":"github","val":{"access_token":"a","refresh_token":"r","expires_at":"1"}}}`,
		`{"endpoint":"/x","method":"GET","custom_connection_data":{"authScheme":"SERVICE_ACCOUNT","toolkitSlug":"github","val":{"application_id":"1","installation_id":"2","private_key":"k"}}}`,
	} {
		f.Add([]byte(seed))
	}
	// Nothing leaves the process: other upstreams fail (502), and so do
	// token exchanges (422).
	offlineRT := roundTripFunc(func(*http.Request) (*http.Response, error) {
		return nil, errors.New("offline")
	})
	offline := &http.Client{Transport: offlineRT}
	reg := schemes.Default.Clone()
	reg.Register(credentials.OAuth2, &schemes.OAuth2{HTTPClient: offline})
	reg.Register(credentials.DCROAuth, &schemes.OAuth2{HTTPClient: offline})
	reg.Register(credentials.S2SOAuth2, &schemes.OAuth2{HTTPClient: offline})
	reg.Register(credentials.ServiceAccount, &schemes.GitHubApp{HTTPClient: offline})
	reg.Register(credentials.GoogleServiceAccount, &schemes.GoogleServiceAccount{HTTPClient: offline})
	s := testutil.NewServer(f, testutil.WithUpstreamTransport(offlineRT), testutil.WithSchemes(reg))
	s.AddAccount(testutil.Account{ID: "ca", AuthScheme: credentials.NoAuth, Handler: echo})
	s.AddUpstream("https://api.example.com", echo)
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/api/v3.1/tools/execute/proxy", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Api-Key", s.APIKey)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code == 500 || !json.Valid(w.Body.Bytes()) {
			t.Fatalf("%d %s for %q", w.Code, w.Body, body)
		}
		s.Reset()
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
