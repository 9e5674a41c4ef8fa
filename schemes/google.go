package schemes

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

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
// connection until credentials.DefaultExpirySkew before they expire (the
// margin golang.org/x/oauth2 uses; a reply whose expires_in is missing,
// zero or negative gives DefaultTokenLifetime), and dropped when the
// upstream rejects one with 401 through Transport, at most once per
// InvalidateCooldown (see TokenInvalidator).
// A reply without an access_token is a *TokenError. Concurrent callers
// share one exchange, and each stops waiting for it when its own context
// ends.
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
	// timeout over http.DefaultTransport. It never follows a redirect
	// to another origin (ErrTokenRedirect).
	HTTPClient *http.Client
	// InvalidateCooldown is how long a token obtained after an earlier
	// token was dropped on a 401 is kept when the upstream refuses it with
	// 401 again (see TokenInvalidator): within it the 401 is returned as
	// it is and no new exchange starts, so an upstream that refuses every
	// token costs one exchange per cooldown, not one per request.
	// Default (zero): DefaultInvalidateCooldown. Negative: none, every 401
	// drops the token it refused.
	InvalidateCooldown time.Duration

	cache tokenCache
}

// Apply sets the Authorization header to a valid access token. A token
// exchange in progress does not stop when ctx ends (other callers may be
// waiting for it, and its token is cached), but Apply returns ctx's error
// as soon as ctx ends.
func (a *GoogleServiceAccount) Apply(ctx context.Context, c *credentials.Connection, req *http.Request) error {
	raw := strings.TrimSpace(c.Val.CredentialsJSON)
	if raw == "" {
		return &MissingFieldError{Scheme: c.AuthScheme, Field: "credentials_json"}
	}
	key, scopes := a.key(c)
	subject, tokenURL, hc := a.Subject, a.TokenURL, a.HTTPClient
	t, err := a.cache.get(ctx, key, time.Now(), credentials.DefaultExpirySkew, func(ctx context.Context, _ *oauth2.Token) (*oauth2.Token, error) {
		cfg, err := googleJWTConfig(raw, scopes, subject, tokenURL)
		if err != nil {
			return nil, err
		}
		start := time.Now()
		// The redirect-checking client is built per exchange, not per
		// request: a cached token needs none.
		t, err := cfg.TokenSource(context.WithValue(ctx, oauth2.HTTPClient, clientOr(hc))).Token()
		if err != nil {
			return nil, oauth2Error("GOOGLE_SERVICE_ACCOUNT", err, c.Val.SecretValues()...)
		}
		if t.AccessToken == "" {
			return nil, &TokenError{Scheme: "GOOGLE_SERVICE_ACCOUNT", Err: errNoAccessToken}
		}
		if !t.Expiry.After(start) {
			// expires_in missing, zero or negative (or an id_token's exp
			// already past): not a token that never expires.
			t.Expiry = start.Add(DefaultTokenLifetime)
		}
		return t, nil
	})
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+t.AccessToken)
	return nil
}

// key names c's token in the cache, and gives the scopes asked for.
func (a *GoogleServiceAccount) key(c *credentials.Connection) (string, []string) {
	scopes := splitScopes(c.Val.Scope)
	if len(scopes) == 0 {
		scopes = a.Scopes
	}
	if len(scopes) == 0 {
		scopes = DefaultGoogleScopes
	}
	raw := strings.TrimSpace(c.Val.CredentialsJSON)
	return digest(raw, strings.Join(scopes, " "), a.Subject, a.TokenURL), scopes
}

// InvalidateToken drops c's cached token if req carried it (see
// TokenInvalidator).
func (a *GoogleServiceAccount) InvalidateToken(c *credentials.Connection, req *http.Request) {
	if c == nil || req == nil {
		return
	}
	key, _ := a.key(c)
	a.cache.drop(key, sentToken(req), time.Now(), cooldownOr(a.InvalidateCooldown))
}

// errNoAccessToken is the cause of a token reply without an access token.
var errNoAccessToken = errors.New("token reply has no access_token")

// googleJWTConfig reads a service account key file. Errors never quote it.
func googleJWTConfig(raw string, scopes []string, subject, tokenURL string) (*jwt.Config, error) {
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
	return &jwt.Config{
		Email:        f.ClientEmail,
		PrivateKey:   []byte(f.PrivateKey),
		PrivateKeyID: f.PrivateKeyID,
		Scopes:       scopes,
		Subject:      subject,
		TokenURL:     cmp.Or(tokenURL, f.TokenURI, googleTokenURL),
	}, nil
}

func splitScopes(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' || r == '\n' || r == '\t' })
}
