package schemes

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/composiohttp/composiohttp/credentials"
	"golang.org/x/oauth2"
)

// OAuth2 is the adapter of the OAuth 2 family (OAUTH2, DCR_OAUTH,
// S2S_OAUTH2): "Authorization: <token_type> <access_token>", with
// token_type "Bearer" when empty and "bearer" written "Bearer".
//
// When the connection's expires_at is in the past (RFC 3339 text or Unix
// seconds), it has a refresh_token and a token URL is known (TokenURL, else
// the toolkit's Toolkit.TokenURL), the adapter refreshes the token through
// golang.org/x/oauth2 (client_id and client_secret from the connection)
// and uses the new token until it expires; concurrent callers share one
// refresh. Without a refresh token or token URL the stored token is sent
// as it is and the upstream decides. When Composio manages the account it
// refreshes tokens itself; this is for direct mode with tokens you hold.
//
// The zero value is ready to use and safe for concurrent use.
type OAuth2 struct {
	// Toolkits is where token URLs are looked up. Default: DefaultToolkits.
	Toolkits *ToolkitRegistry
	// TokenURL, when set, is the token endpoint for every connection.
	TokenURL string
	// HTTPClient makes refresh requests. Default: a client with a 30 second
	// timeout over http.DefaultTransport.
	HTTPClient *http.Client
	// Now tells the time expires_at is compared with. Default: time.Now.
	Now func() time.Time

	cache sourceCache
}

// Apply sets the Authorization header, refreshing an expired token first
// when it can.
func (a *OAuth2) Apply(ctx context.Context, c *credentials.Connection, req *http.Request) error {
	v := &c.Val
	typ, tok := v.TokenType, v.AccessToken
	if v.RefreshToken != "" && expired(v.ExpiresAt, nowOr(a.Now)) {
		if tokenURL, err := a.tokenURL(c); err != nil {
			return err
		} else if tokenURL != "" {
			t, err := a.refresh(c, tokenURL)
			if err != nil {
				return err
			}
			typ, tok = t.TokenType, t.AccessToken
		}
	}
	if tok == "" {
		return &MissingFieldError{Scheme: c.AuthScheme, Field: "access_token"}
	}
	req.Header.Set("Authorization", tokenType(typ)+" "+tok)
	return nil
}

func (a *OAuth2) tokenURL(c *credentials.Connection) (string, error) {
	if a.TokenURL != "" {
		return a.TokenURL, nil
	}
	tks := a.Toolkits
	if tks == nil {
		tks = DefaultToolkits
	}
	tk, ok := tks.Lookup(c.ToolkitSlug)
	if !ok || tk.TokenURL == "" {
		return "", nil
	}
	return fillTemplate(c, tk.TokenURL)
}

func (a *OAuth2) refresh(c *credentials.Connection, tokenURL string) (*oauth2.Token, error) {
	v := &c.Val
	key := digest(tokenURL, v.ClientID, v.ClientSecret, v.RefreshToken)
	ts, _ := a.cache.get(key, func() (oauth2.TokenSource, error) {
		cfg := &oauth2.Config{
			ClientID:     v.ClientID,
			ClientSecret: v.ClientSecret,
			Endpoint:     oauth2.Endpoint{TokenURL: tokenURL},
		}
		// The source outlives this request, so it gets a context of its own;
		// the HTTP client's timeout bounds each refresh.
		ctx := context.WithValue(context.Background(), oauth2.HTTPClient, clientOr(a.HTTPClient))
		return cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: v.RefreshToken}), nil
	})
	t, err := ts.Token()
	if err != nil {
		return nil, oauth2Error(string(c.AuthScheme), err)
	}
	return t, nil
}

// tokenType spells a token type as it goes in Authorization, like
// oauth2.Token.Type: "Bearer" when empty or any case of "bearer".
func tokenType(t string) string {
	switch strings.ToLower(t) {
	case "", "bearer":
		return "Bearer"
	case "mac":
		return "MAC"
	case "basic":
		return "Basic"
	}
	return t
}

// expired reports whether expiresAt (RFC 3339 text, or Unix time in
// seconds or milliseconds) is at or before now plus a 10 second leeway.
// Empty or unreadable values are not expired.
func expired(expiresAt string, now time.Time) bool {
	s := strings.TrimSpace(expiresAt)
	if s == "" {
		return false
	}
	var t time.Time
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n > 1e12 {
			t = time.UnixMilli(n)
		} else {
			t = time.Unix(n, 0)
		}
	} else if t, err = time.Parse(time.RFC3339Nano, s); err != nil {
		if t, err = time.Parse("2006-01-02T15:04:05.999999999", s); err != nil {
			return false
		}
	}
	return !now.Add(10 * time.Second).Before(t)
}
