package schemes

import (
	"context"
	"net/http"
	"time"

	"github.com/composiohttp/composiohttp/credentials"
	"golang.org/x/oauth2"
)

// OAuth2 is the adapter of the OAuth 2 family (OAUTH2, DCR_OAUTH,
// S2S_OAUTH2): "Authorization: <token_type> <access_token>", with
// token_type "Bearer" when empty and "bearer" written "Bearer".
//
// When the connection's expires_at (as credentials.Val.Expiry reads it:
// RFC 3339, Unix seconds or milliseconds) is in the past or within
// credentials.DefaultExpirySkew of now, it has a refresh_token and a token
// URL is known (TokenURL, else the toolkit's Toolkit.TokenURL), the
// adapter refreshes the token through golang.org/x/oauth2 (client_id and
// client_secret from the connection) and uses the new token until it is
// within credentials.DefaultExpirySkew of its expiry, then refreshes again
// with the refresh token the provider last returned (see OnRefresh to
// persist it). A refreshed token the upstream rejects with 401 through
// Transport is dropped, and the next request refreshes again, at most
// once per InvalidateCooldown (see TokenInvalidator). Concurrent callers
// share one refresh, which does not stop when a caller's context ends,
// while each caller returns its context's error as soon as that context
// ends. Without a refresh token or token URL
// the stored token is sent as it is and the upstream decides. When
// Composio manages the account it refreshes tokens itself; this is for
// direct mode with tokens you hold.
//
// The zero value is ready to use and safe for concurrent use.
type OAuth2 struct {
	// Toolkits is where token URLs are looked up. Default: DefaultToolkits.
	Toolkits *ToolkitRegistry
	// TokenURL, when set, is the token endpoint for every connection.
	TokenURL string
	// HTTPClient makes refresh requests. Default: a client with a 30 second
	// timeout over http.DefaultTransport. It never follows a redirect
	// to another origin (ErrTokenRedirect).
	HTTPClient *http.Client
	// Now tells the time expires_at is compared with. Default: time.Now.
	Now func() time.Time
	// OnRefresh, when set, is called once after each successful refresh,
	// with the connection of the caller that started it (whose
	// refresh_token is older than the one used when an earlier refresh
	// rotated it) and a copy of the new token (its RefreshToken is the
	// provider's new refresh token, or the one used when the provider sent
	// none). Refreshed tokens live
	// only in this adapter's memory; providers that rotate refresh tokens
	// invalidate the stored one, so persist tok (for example into your
	// credentials store) to survive a restart or a cache eviction.
	//
	// It runs in the goroutine that performed the refresh, before the
	// callers waiting for the refresh get the token, so it should be
	// quick. ctx carries the values of the caller that started the
	// refresh but is not canceled with it; it ends when the exchange's
	// one-minute bound does. Default: nil.
	OnRefresh func(ctx context.Context, conn *credentials.Connection, tok *oauth2.Token)
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

// Apply sets the Authorization header, refreshing an expired token first
// when it can.
func (a *OAuth2) Apply(ctx context.Context, c *credentials.Connection, req *http.Request) error {
	v := &c.Val
	typ, tok := v.TokenType, v.AccessToken
	if v.RefreshToken != "" && expired(v, nowOr(a.Now)) {
		if tokenURL, err := a.tokenURL(c); err != nil {
			return err
		} else if tokenURL != "" {
			t, err := a.refresh(ctx, c, tokenURL)
			if err != nil {
				return err
			}
			typ, tok = t.TokenType, t.AccessToken
		}
	}
	if tok == "" {
		return &MissingFieldError{Scheme: c.AuthScheme, Field: "access_token"}
	}
	// oauth2.Token spells the type as Authorization wants it ("Bearer"
	// for "" or any case of "bearer", "MAC", "Basic").
	(&oauth2.Token{AccessToken: tok, TokenType: typ}).SetAuthHeader(req)
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
	u, _, err := fillTemplate(c, tk.TokenURL)
	return u, err
}

// refresh returns a token refreshed with the connection's refresh token
// (or the newer one a previous refresh returned), cached until it expires.
// The exchange is detached from ctx but the caller waits only as long as
// ctx allows.
func (a *OAuth2) refresh(ctx context.Context, c *credentials.Connection, tokenURL string) (*oauth2.Token, error) {
	scheme, id, secret, rt := string(c.AuthScheme), c.Val.ClientID, c.Val.ClientSecret, c.Val.RefreshToken
	key := refreshKey(c, tokenURL)
	return a.cache.get(ctx, key, nowOr(a.Now), credentials.DefaultExpirySkew, func(ctx context.Context, prev *oauth2.Token) (*oauth2.Token, error) {
		if prev != nil && prev.RefreshToken != "" {
			rt = prev.RefreshToken // the provider rotated it
		}
		cfg := &oauth2.Config{ClientID: id, ClientSecret: secret, Endpoint: oauth2.Endpoint{TokenURL: tokenURL}}
		start := nowOr(a.Now)
		t, err := cfg.TokenSource(context.WithValue(ctx, oauth2.HTTPClient, clientOr(a.HTTPClient)),
			&oauth2.Token{RefreshToken: rt}).Token()
		if err != nil {
			return nil, oauth2Error(scheme, err, append(c.Val.SecretValues(), rt)...)
		}
		if t.ExpiresIn > 0 { // expiry by a.Now's clock, not x/oauth2's
			t.Expiry = start.Add(time.Duration(t.ExpiresIn) * time.Second)
		}
		if a.OnRefresh != nil {
			cp := *t
			a.OnRefresh(ctx, c, &cp)
		}
		return t, nil
	})
}

// refreshKey names the token refreshed for c at tokenURL in the cache.
func refreshKey(c *credentials.Connection, tokenURL string) string {
	return digest(tokenURL, c.Val.ClientID, c.Val.ClientSecret, c.Val.RefreshToken)
}

// InvalidateToken drops the token refreshed for c if req carried it (see
// TokenInvalidator); the refresh token stays for the next refresh. A
// token that came with the connection is not this adapter's to drop.
func (a *OAuth2) InvalidateToken(c *credentials.Connection, req *http.Request) {
	if c == nil || req == nil || c.Val.RefreshToken == "" {
		return
	}
	if tokenURL, err := a.tokenURL(c); err == nil && tokenURL != "" {
		a.cache.drop(refreshKey(c, tokenURL), sentToken(req), nowOr(a.Now), cooldownOr(a.InvalidateCooldown))
	}
}

// expired reports whether v's expires_at, as credentials.Val.Expiry reads
// it, is within credentials.DefaultExpirySkew of now or before. A missing
// or unreadable expires_at is not expired.
func expired(v *credentials.Val, now time.Time) bool {
	t, ok := v.Expiry()
	return ok && !now.Add(credentials.DefaultExpirySkew).Before(t)
}
