package schemes

import (
	"container/list"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/composiohttp/composiohttp/internal/httpurl"

	"github.com/composiohttp/composiohttp/credentials"
	"golang.org/x/oauth2"
	"golang.org/x/sync/singleflight"
)

// Token exchanges (OAuth 2 refresh, GitHub App installation tokens, Google
// service accounts) share these defaults.
const (
	// githubExpiryLeeway: a cached GitHub installation token this close to
	// its expiry is replaced. It is wider than
	// credentials.DefaultExpirySkew (which the other exchanges use) to
	// cover clock drift with GitHub's servers, the reason GitHub asks for
	// the app JWT's iat to be set 60 seconds in the past.
	githubExpiryLeeway = time.Minute
	// maxCacheEntries bounds each adapter's per-connection cache; past it
	// the least recently used entries go (never one with an exchange in
	// flight).
	maxCacheEntries = 4096
	// exchangeTimeout bounds one token exchange, whatever the client.
	exchangeTimeout = time.Minute
)

// DefaultInvalidateCooldown is how long a token obtained after an
// invalidation is kept when the upstream refuses it with 401 again, for the
// adapters whose InvalidateCooldown is zero (see TokenInvalidator). An
// upstream that refuses every token (a revoked app, a token it will never
// accept) then costs one new exchange per cooldown, not one per request,
// which could get the client rate-limited at the token endpoint or its
// refresh token revoked. 30 seconds is well under any token's lifetime and
// long enough to keep a busy client's exchanges to a trickle.
const DefaultInvalidateCooldown = 30 * time.Second

// cooldownOr returns d, DefaultInvalidateCooldown when d is zero, and zero
// (no cooldown) when d is negative.
func cooldownOr(d time.Duration) time.Duration {
	switch {
	case d == 0:
		return DefaultInvalidateCooldown
	case d < 0:
		return 0
	}
	return d
}

// DefaultTokenLifetime is how long a token from an exchange is taken to
// live when its reply gives no usable expiry: a Google reply whose
// expires_in is missing, zero or negative, a GitHub reply whose expires_at
// is missing, or already past (or within a minute of passing) by this
// host's clock. An hour is the documented lifetime of both (Google's
// service-account access tokens, GitHub's installation tokens); the token
// is replaced the usual margin before it ends (credentials.DefaultExpirySkew
// for Google, a minute for GitHub), and sooner if the upstream rejects it
// with 401 through Transport (see TokenInvalidator), so a token that dies
// earlier costs one failed request, not an exchange per request.
const DefaultTokenLifetime = time.Hour

// defaultHTTPClient is used for token exchanges when an adapter's
// HTTPClient is nil: http.DefaultTransport with a 30 second timeout.
var defaultHTTPClient = &http.Client{Timeout: 30 * time.Second}

// ErrTokenRedirect is the cause (wrapped in a *TokenError) when a token
// endpoint redirects to another origin: token requests carry a refresh
// token, a client secret or a signed assertion, which must not be re-sent
// elsewhere, so such a redirect is never followed.
var ErrTokenRedirect = errors.New("schemes: token endpoint redirected to another origin")

// clientOr returns the client for token requests: c, else
// defaultHTTPClient, as a copy that follows a redirect only to the origin
// (scheme, host and port) of the first request, and then as c's own
// CheckRedirect says (at most 10 when it has none). It is the one client
// of every token exchange (OAuth2's refresh, GitHubApp's installation
// token, GoogleServiceAccount's JWT bearer grant): an exchange that does
// not go through it could re-send its secret to another origin.
func clientOr(c *http.Client) *http.Client {
	if c == nil {
		c = defaultHTTPClient
	}
	cp := *c
	next := c.CheckRedirect
	cp.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if !sameOrigin(req.URL, via[0].URL) {
			return ErrTokenRedirect
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("schemes: token endpoint: stopped after 10 redirects")
		}
		return nil
	}
	return &cp
}

// sameOrigin reports whether a and b have the same scheme, host and port
// (default ports made explicit).
func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Hostname(), b.Hostname()) &&
		httpurl.Port(a) == httpurl.Port(b)
}

func nowOr(now func() time.Time) time.Time {
	if now != nil {
		return now()
	}
	return time.Now()
}

// digest names a cache entry by a SHA-256 of its parts, so no secret is
// ever a map key (or shows up in a heap dump of the keys, or a log of them).
func digest(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		// Each part prefixed by its length: no choice of parts (a client
		// id holding a NUL byte, say) gives another connection's key.
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(p)))
		h.Write(n[:])
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// tokenCache keeps one token per connection digest and makes sure that
// many concurrent callers needing a new token cause one exchange
// (singleflight, per key): the first starts it, the others join it, each
// waiting only until its own context ends. The token endpoint's answer
// never waits on a caller, and no caller waits on a hung endpoint longer
// than its own context.
type tokenCache struct {
	id      uint64 // names the cache in exchanges; set on first use, under mu
	mu      sync.Mutex
	entries map[string]*list.Element // of *tokenEntry
	lru     list.List                // most recently used first
}

// exchanges runs the token exchanges of every tokenCache, keyed by cache
// id and entry key. It is not a field of tokenCache: fmt prints adapters by
// reflection (verbs such as %d follow pointers), and would read a group's
// state while a finished exchange's goroutine still unwinds.
var (
	exchanges singleflight.Group
	cacheIDs  atomic.Uint64
)

type tokenEntry struct {
	key      string
	tok      *oauth2.Token // last token fetched, nil before the first; read-only
	fetching bool          // an exchange is in flight: not evicted
	obtained time.Time     // when tok's exchange started, by the adapter's clock
	// invalidated: a token of this entry was dropped on a 401 before, so
	// the current one is kept for the cooldown after it was obtained.
	invalidated bool
}

// fetchFunc obtains a new token. prev is the last token cached for the key
// (nil if none), for exchanges that need its refresh token.
type fetchFunc func(ctx context.Context, prev *oauth2.Token) (*oauth2.Token, error)

// get returns the cached token for key if it is valid at now (it has no
// expiry, or expires more than skew after now), else the result of fetch,
// which runs once at a time per key, detached from ctx's cancellation
// (other callers may be waiting for it) and bounded by exchangeTimeout. A
// panic in fetch is returned as an error. The token returned is shared:
// callers must not modify it.
func (c *tokenCache) get(ctx context.Context, key string, now time.Time, skew time.Duration, fetch fetchFunc) (*oauth2.Token, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if t, _ := c.lookup(key, now, skew, false); t != nil {
		return t, nil
	}
	ch := exchanges.DoChan(c.flightKey(key), func() (any, error) {
		// A flight that ended since the lookup above may have cached one.
		t, prev := c.lookup(key, now, skew, true)
		if t != nil {
			c.store(key, nil, now)
			return t, nil
		}
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), exchangeTimeout)
		defer cancel()
		tok, err := safeFetch(fctx, fetch, prev)
		if err != nil {
			tok = nil
		}
		c.store(key, tok, now)
		return tok, err
	})
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*oauth2.Token), nil
	}
}

// flightKey names key's exchange in exchanges.
func (c *tokenCache) flightKey(key string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.id == 0 {
		c.id = cacheIDs.Add(1)
	}
	return strconv.FormatUint(c.id, 36) + "/" + key
}

// safeFetch calls fetch, turning a panic into an error (fetch runs in
// singleflight's goroutine, where a panic would end the program).
func safeFetch(ctx context.Context, fetch fetchFunc, prev *oauth2.Token) (tok *oauth2.Token, err error) {
	defer func() {
		if p := recover(); p != nil {
			tok, err = nil, fmt.Errorf("schemes: token exchange panicked: %v", p)
		}
	}()
	return fetch(ctx, prev)
}

// lookup returns key's token if it is valid at now, else nil, and the
// last token cached (valid or not, for its refresh token). With fetching,
// it marks the entry as having an exchange in flight.
func (c *tokenCache) lookup(key string, now time.Time, skew time.Duration, fetching bool) (valid, last *oauth2.Token) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entry(key)
	e.fetching = e.fetching || fetching
	if t := e.tok; t != nil && t.AccessToken != "" && (t.Expiry.IsZero() || now.Before(t.Expiry.Add(-skew))) {
		return t, t
	}
	return nil, e.tok
}

// store ends key's exchange, caching tok, obtained at now, unless it is
// nil. An entry evicted meanwhile (it cannot be while marked, but a full
// cache may have dropped it before) is added back.
func (c *tokenCache) store(key string, tok *oauth2.Token, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entry(key)
	e.fetching = false
	if tok != nil {
		e.tok, e.obtained = tok, now
	}
}

// drop forgets key's token if its access token is accessToken (an
// upstream rejected it), so that the next get exchanges again, and
// reports whether it did. A refresh token it holds is kept for that
// exchange. A token that has replaced the rejected one already stays, and
// so does a token obtained after an earlier drop less than cooldown
// before now: an upstream that refuses every token gets the same one
// again until the cooldown has passed, rather than causing an exchange
// per request.
func (c *tokenCache) drop(key, accessToken string, now time.Time, cooldown time.Duration) bool {
	if accessToken == "" {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[key]
	if !ok {
		return false
	}
	e := el.Value.(*tokenEntry)
	if e.tok == nil || subtle.ConstantTimeCompare([]byte(e.tok.AccessToken), []byte(accessToken)) != 1 {
		return false
	}
	if e.invalidated && now.Sub(e.obtained) < cooldown {
		return false
	}
	e.tok = &oauth2.Token{RefreshToken: e.tok.RefreshToken} // no access token: never valid
	e.invalidated = true
	return true
}

// sentToken is the credential of req's Authorization header: what
// follows its scheme ("Bearer", "token", ...).
func sentToken(req *http.Request) string {
	_, tok, _ := strings.Cut(req.Header.Get("Authorization"), " ")
	return strings.TrimSpace(tok)
}

// entry returns key's entry, made the most recently used, adding it if
// needed. A full cache first drops its least recently used entries with no
// exchange in flight. c.mu must be held.
func (c *tokenCache) entry(key string) *tokenEntry {
	if el, ok := c.entries[key]; ok {
		c.lru.MoveToFront(el)
		return el.Value.(*tokenEntry)
	}
	if c.entries == nil {
		c.entries = make(map[string]*list.Element)
	}
	for el := c.lru.Back(); el != nil && len(c.entries) >= maxCacheEntries; {
		prev := el.Prev()
		if e := el.Value.(*tokenEntry); !e.fetching {
			c.lru.Remove(el)
			delete(c.entries, e.key)
		}
		el = prev
	}
	e := &tokenEntry{key: key}
	c.entries[key] = c.lru.PushFront(e)
	return e
}

// TokenError reports a failed token exchange or refresh. It carries the
// HTTP status and the endpoint's error code or message, with every secret
// the exchange sent that it quotes (a refresh token, a client secret, an
// app JWT) replaced by credentials.Redacted; Unwrap gives the underlying error (an *oauth2.RetrieveError
// for OAuth 2 exchanges, whose Body may hold the endpoint's raw reply).
type TokenError struct {
	// Scheme is the auth scheme whose exchange failed.
	Scheme string
	// StatusCode is the token endpoint's HTTP status, 0 if none.
	StatusCode int
	// Code is the endpoint's error code or message, if it gave one.
	Code string
	// Err is the underlying error.
	Err error
}

func (e *TokenError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "schemes: %s token exchange failed", e.Scheme)
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, ": status %d", e.StatusCode)
	}
	if e.Code != "" {
		fmt.Fprintf(&b, ": %q", e.Code)
	}
	if e.StatusCode == 0 && e.Code == "" && e.Err != nil {
		// Transport-level failures (dial errors, timeouts, JSON syntax)
		// name URLs and causes, never request bodies or replies.
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns e.Err.
func (e *TokenError) Unwrap() error { return e.Err }

// oauth2Error turns an error of x/oauth2 into a *TokenError without its
// response body, its code scrubbed of secrets (see credentials.Scrub): the
// endpoint may quote what it was sent.
func oauth2Error(scheme string, err error, secrets ...string) error {
	if !errors.Is(err, ErrTokenRedirect) && strings.Contains(err.Error(), ErrTokenRedirect.Error()) {
		// x/oauth2/jwt formats the client's error with %v: restore the
		// sentinel (its text is this package's own).
		err = fmt.Errorf("%w (%v)", ErrTokenRedirect, err)
	}
	te := &TokenError{Scheme: scheme, Err: err}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		if re.Response != nil {
			te.StatusCode = re.Response.StatusCode
		}
		te.Code = credentials.Scrub(re.ErrorCode, secrets...)
	}
	return te
}
