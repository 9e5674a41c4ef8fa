package schemes

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/composiohttp/composiohttp/credentials"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"
)

// DefaultGitHubAPI is the API origin GitHubApp exchanges tokens at when
// neither the adapter nor the connection names one.
const DefaultGitHubAPI = "https://api.github.com"

// GitHubApp is the SERVICE_ACCOUNT adapter, a GitHub App acting as one of
// its installations. It signs a JWT (RS256 with the connection's
// private_key, PEM in PKCS #1 or PKCS #8; iss = application_id, iat = now
// - 60s, exp = now + 9m), exchanges it at
// POST {api}/app/installations/{installation_id}/access_tokens for an
// installation access token, and sends "Authorization: Bearer <token>".
// Tokens are cached per connection until a minute before their
// expires_at (DefaultTokenLifetime after the exchange when expires_at is
// missing or not more than a minute ahead); concurrent callers needing a
// new token share one exchange. A token the upstream rejects with 401
// through Transport is dropped, at most once per InvalidateCooldown (see
// TokenInvalidator).
//
// {api} is BaseURL, else the connection's base URL as Toolkits resolves it
// (base_url, e.g. "https://ghe.example.com/api/v3" for GitHub Enterprise
// Server), else DefaultGitHubAPI.
//
// The zero value is ready to use and safe for concurrent use.
type GitHubApp struct {
	// BaseURL, when set, is the API origin for every connection.
	BaseURL string
	// Toolkits resolves the connection's base URL. Default: DefaultToolkits.
	Toolkits *ToolkitRegistry
	// HTTPClient makes token exchanges. Default: a client with a 30 second
	// timeout over http.DefaultTransport. It never follows a redirect
	// to another origin (ErrTokenRedirect).
	HTTPClient *http.Client
	// Now tells the time for JWT claims and token expiry. Default: time.Now.
	Now func() time.Time
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

// Apply sets the Authorization header to a valid installation token.
func (a *GitHubApp) Apply(ctx context.Context, c *credentials.Connection, req *http.Request) error {
	v := &c.Val
	for _, f := range [...]struct{ name, val string }{
		{"application_id", v.ApplicationID},
		{"installation_id", v.InstallationID},
		{"private_key", v.PrivateKey},
	} {
		if strings.TrimSpace(f.val) == "" {
			return &MissingFieldError{Scheme: c.AuthScheme, Field: f.name}
		}
	}
	api := a.apiURL(c)
	key := a.key(c, api)
	tok, err := a.cache.get(ctx, key, nowOr(a.Now), githubExpiryLeeway, func(ctx context.Context, _ *oauth2.Token) (*oauth2.Token, error) {
		t, exp, err := a.exchange(ctx, c, api)
		if err != nil {
			return nil, err
		}
		return &oauth2.Token{AccessToken: t, TokenType: "Bearer", Expiry: exp}, nil
	})
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	return nil
}

// key names c's token, at api, in the cache.
func (a *GitHubApp) key(c *credentials.Connection, api string) string {
	return digest(api, c.Val.ApplicationID, c.Val.InstallationID, c.Val.PrivateKey)
}

// InvalidateToken drops c's cached installation token if req carried it
// (see TokenInvalidator).
func (a *GitHubApp) InvalidateToken(c *credentials.Connection, req *http.Request) {
	if c == nil || req == nil {
		return
	}
	a.cache.drop(a.key(c, a.apiURL(c)), sentToken(req), nowOr(a.Now), cooldownOr(a.InvalidateCooldown))
}

func (a *GitHubApp) apiURL(c *credentials.Connection) string {
	if a.BaseURL != "" {
		return strings.TrimRight(a.BaseURL, "/")
	}
	tks := a.Toolkits
	if tks == nil {
		tks = DefaultToolkits
	}
	if u, err := tks.ResolveBaseURL(c); err == nil {
		return u
	}
	return DefaultGitHubAPI
}

// exchange trades an app JWT for an installation token.
func (a *GitHubApp) exchange(ctx context.Context, c *credentials.Connection, api string) (string, time.Time, error) {
	const scheme = "SERVICE_ACCOUNT"
	v := &c.Val
	key, err := parseRSAKey(v.PrivateKey)
	if err != nil {
		return "", time.Time{}, err
	}
	now := nowOr(a.Now)
	signed, err := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.RegisteredClaims{
		Issuer:    strings.TrimSpace(v.ApplicationID),
		IssuedAt:  jwt.NewNumericDate(now.Add(-60 * time.Second)),
		ExpiresAt: jwt.NewNumericDate(now.Add(9 * time.Minute)),
	}).SignedString(key)
	if err != nil {
		return "", time.Time{}, errors.New("schemes: SERVICE_ACCOUNT: cannot sign the app JWT")
	}
	endpoint := api + "/app/installations/" + url.PathEscape(strings.TrimSpace(v.InstallationID)) + "/access_tokens"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, nil)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("schemes: SERVICE_ACCOUNT: bad token endpoint: %w", err)
	}
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("Authorization", "Bearer "+signed)
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	resp, err := clientOr(a.HTTPClient).Do(req)
	if err != nil {
		return "", time.Time{}, &TokenError{Scheme: scheme, Err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", time.Time{}, &TokenError{Scheme: scheme, StatusCode: resp.StatusCode, Err: err}
	}
	var out struct {
		Token     string    `json:"token"`
		ExpiresAt time.Time `json:"expires_at"`
		Message   string    `json:"message"`
	}
	jerr := json.Unmarshal(body, &out)
	if resp.StatusCode/100 != 2 || jerr != nil || out.Token == "" {
		// GitHub may quote what it was sent: scrub the app JWT and the
		// connection's secrets from its message.
		code := credentials.Scrub(out.Message, append(v.SecretValues(), signed)...)
		return "", time.Time{}, &TokenError{Scheme: scheme, StatusCode: resp.StatusCode, Code: code,
			Err: errors.New("installation token request rejected")}
	}
	if !out.ExpiresAt.After(now.Add(githubExpiryLeeway)) {
		// Missing, or past (or about to be) by this host's clock, which
		// may be ahead of GitHub's: a token that would be replaced at
		// once, an exchange per call. GitHub's documented lifetime instead.
		out.ExpiresAt = now.Add(DefaultTokenLifetime)
	}
	return out.Token, out.ExpiresAt, nil
}

// parseRSAKey reads a PEM RSA private key (PKCS #1 or #8). It also accepts
// the PEM with its newlines escaped as "\n" (as environment variables often
// hold it) or base64-encoded. Errors never quote the key.
func parseRSAKey(s string) (*rsa.PrivateKey, error) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "-----BEGIN") {
		if b, err := base64.StdEncoding.DecodeString(s); err == nil {
			s = string(b)
		}
	}
	if !strings.Contains(s, "\n") {
		s = strings.ReplaceAll(s, `\n`, "\n")
	}
	k, err := jwt.ParseRSAPrivateKeyFromPEM([]byte(s))
	if err != nil {
		return nil, errors.New("schemes: SERVICE_ACCOUNT: private_key is not a PEM RSA private key (PKCS #1 or PKCS #8)")
	}
	return k, nil
}
