package schemes

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/composiohttp/composiohttp/credentials"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/jwt"
)

// DefaultGoogleScopes are the scopes GoogleServiceAccount asks for when
// neither the connection's scope field nor the adapter's Scopes name any.
var DefaultGoogleScopes = []string{"https://www.googleapis.com/auth/cloud-platform"}

// GoogleServiceAccount is the GOOGLE_SERVICE_ACCOUNT adapter. It reads the
// service account key file in the connection's credentials_json
// (client_email, private_key, private_key_id, token_uri), obtains an access
// token with the JWT bearer grant of golang.org/x/oauth2/jwt (what
// google.JWTConfigFromJSON builds, without the GCE metadata dependency)
// and sends "Authorization: Bearer <token>". Tokens are cached per
// connection until they expire (oauth2.ReuseTokenSource); concurrent
// callers share one exchange.
//
// Scopes are the connection's scope field (space or comma separated), else
// Scopes, else DefaultGoogleScopes. The token endpoint is TokenURL, else
// the key file's token_uri, else https://oauth2.googleapis.com/token.
//
// The zero value is ready to use and safe for concurrent use.
type GoogleServiceAccount struct {
	// Scopes are used when the connection has no scope field.
	Scopes []string
	// Subject, when set, is the user to impersonate (domain-wide
	// delegation).
	Subject string
	// TokenURL, when set, overrides the key file's token_uri.
	TokenURL string
	// HTTPClient makes token requests. Default: a client with a 30 second
	// timeout over http.DefaultTransport.
	HTTPClient *http.Client

	cache sourceCache
}

// Apply sets the Authorization header to a valid access token.
func (a *GoogleServiceAccount) Apply(_ context.Context, c *credentials.Connection, req *http.Request) error {
	const scheme = "GOOGLE_SERVICE_ACCOUNT"
	raw := strings.TrimSpace(c.Val.CredentialsJSON)
	if raw == "" {
		return &MissingFieldError{Scheme: c.AuthScheme, Field: "credentials_json"}
	}
	scopes := splitScopes(c.Val.Scope)
	if len(scopes) == 0 {
		scopes = a.Scopes
	}
	if len(scopes) == 0 {
		scopes = DefaultGoogleScopes
	}
	key := digest(raw, strings.Join(scopes, " "), a.Subject, a.TokenURL)
	ts, err := a.cache.get(key, func() (oauth2.TokenSource, error) {
		var f struct {
			Type         string `json:"type"`
			ClientEmail  string `json:"client_email"`
			PrivateKey   string `json:"private_key"`
			PrivateKeyID string `json:"private_key_id"`
			TokenURI     string `json:"token_uri"`
		}
		if err := json.Unmarshal([]byte(raw), &f); err != nil {
			return nil, errors.New("schemes: GOOGLE_SERVICE_ACCOUNT: credentials_json is not a JSON key file")
		}
		if f.Type != "" && f.Type != "service_account" {
			return nil, errors.New("schemes: GOOGLE_SERVICE_ACCOUNT: credentials_json type is not \"service_account\"")
		}
		if f.ClientEmail == "" || f.PrivateKey == "" {
			return nil, errors.New("schemes: GOOGLE_SERVICE_ACCOUNT: credentials_json lacks client_email or private_key")
		}
		cfg := &jwt.Config{
			Email:        f.ClientEmail,
			PrivateKey:   []byte(f.PrivateKey),
			PrivateKeyID: f.PrivateKeyID,
			Scopes:       scopes,
			Subject:      a.Subject,
			TokenURL:     firstNonEmpty(a.TokenURL, f.TokenURI, googleTokenURL),
		}
		ctx := context.WithValue(context.Background(), oauth2.HTTPClient, clientOr(a.HTTPClient))
		return cfg.TokenSource(ctx), nil
	})
	if err != nil {
		return err
	}
	t, err := ts.Token()
	if err != nil {
		return oauth2Error(scheme, err)
	}
	req.Header.Set("Authorization", "Bearer "+t.AccessToken)
	return nil
}

func splitScopes(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' || r == '\n' || r == '\t' })
}
