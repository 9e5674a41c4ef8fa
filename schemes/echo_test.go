package schemes_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/schemes"
)

// echoServer answers every token request with status and an error
// message quoting everything it was sent: the form (refresh token, client
// secret, JWT assertion) and the Authorization header (an app JWT).
func echoServer(t *testing.T, status int) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(b))
		var quoted []string
		for _, vs := range form {
			quoted = append(quoted, vs...)
		}
		if u, p, ok := r.BasicAuth(); ok {
			quoted = append(quoted, u, p)
		}
		quoted = append(quoted, strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
		msg := "rejected: " + strings.Join(quoted, " ")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]string{"error": msg, "message": msg, "error_description": msg})
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestTokenErrorEchoRedacted: a token endpoint that quotes what it was
// sent in its error puts no secret into TokenError's text.
func TestTokenErrorEchoRedacted(t *testing.T) {
	t.Parallel()
	const rt, cs = "ECHO_refresh_token_1", "ECHO_client_secret_1"
	for _, tt := range []struct {
		name    string
		adapter func(srv *httptest.Server) schemes.Adapter
		conn    func(srv *httptest.Server) *credentials.Connection
		secrets []string
		// message: the endpoint's message reaches the error
		// (x/oauth2/jwt does not parse error replies).
		message bool
	}{
		{"oauth2 refresh",
			func(srv *httptest.Server) schemes.Adapter {
				return &schemes.OAuth2{TokenURL: srv.URL, HTTPClient: srv.Client()}
			},
			func(*httptest.Server) *credentials.Connection {
				return &credentials.Connection{AuthScheme: credentials.OAuth2, Val: credentials.Val{
					AccessToken: "ECHO_old_access", RefreshToken: rt, ClientID: "cid", ClientSecret: cs, ExpiresAt: "1"}}
			},
			[]string{rt, cs, "ECHO_old_access"}, true},
		{"github app",
			func(srv *httptest.Server) schemes.Adapter {
				return &schemes.GitHubApp{BaseURL: srv.URL, HTTPClient: srv.Client()}
			},
			func(*httptest.Server) *credentials.Connection {
				return &credentials.Connection{AuthScheme: credentials.ServiceAccount, Val: credentials.Val{
					ApplicationID: "1", InstallationID: "2", PrivateKey: pkcs1PEM()}}
			},
			[]string{"eyJ"}, true}, // the app JWT
		{"google service account",
			func(srv *httptest.Server) schemes.Adapter {
				return &schemes.GoogleServiceAccount{HTTPClient: srv.Client()}
			},
			func(srv *httptest.Server) *credentials.Connection { return googleConn(srv.URL, "") },
			[]string{"eyJ"}, false}, // the JWT assertion
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := echoServer(t, http.StatusBadRequest)
			req, _ := http.NewRequest("GET", "https://example.com/", nil)
			err := tt.adapter(srv).Apply(t.Context(), tt.conn(srv), req)
			if err == nil {
				t.Fatal("no error")
			}
			for _, s := range tt.secrets {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error shows %q: %v", s, err)
				}
			}
			if tt.message && !strings.Contains(err.Error(), "rejected") {
				t.Errorf("error %q lost the endpoint's message", err)
			}
		})
	}
}
