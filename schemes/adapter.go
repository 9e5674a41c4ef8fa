// Package schemes turns a [credentials.Connection] into what an upstream API
// expects on each request: one [Adapter] per Composio auth scheme (headers,
// query parameters, OAuth 1 signatures, service-account token exchanges),
// a [Registry] keyed by scheme name, a registry of toolkits ([ToolkitRegistry]:
// base URLs and where an API key goes), and a direct-mode [Transport] that applies them
// locally and sends requests straight to the upstream, without the proxy.
//
// The same adapters drive the credential injection of the fake proxy in
// testutil, so a test sees exactly the headers each scheme produces:
//
//	if err := schemes.Default.Apply(ctx, conn, upstreamReq); err != nil { ... }
//	base, err := schemes.ResolveBaseURL(conn)
package schemes

import (
	"context"
	"errors"
	"net/http"
	"sync"

	"github.com/composiohttp/composiohttp/credentials"
)

// Adapter applies a connection's credentials to an outgoing request:
// headers, query parameters or a signature. req is already a clone owned by
// the caller of Apply, which Apply may change freely; if Apply replaces
// req.Body it closes the body it replaced, and it never closes a body it
// leaves in place (on success or error, that body is the caller's to
// close). Implementations must be safe for concurrent use.
type Adapter interface {
	Apply(ctx context.Context, c *credentials.Connection, req *http.Request) error
}

// TokenInvalidator is implemented by adapters that cache a token they
// obtained by an exchange: OAuth2 (refreshed tokens), GitHubApp and
// GoogleServiceAccount. InvalidateToken tells the adapter that the
// upstream refused req (401), which carried the credentials the adapter
// applied for c: if req carried the token cached for c, it is dropped, and
// the next Apply exchanges again instead of sending it until its stated
// expiry. A token cached since (by another caller) stays, and so does a
// token obtained after an earlier drop less than the adapter's
// InvalidateCooldown ago (default DefaultInvalidateCooldown): an upstream
// that refuses every token causes one exchange per cooldown, not one per
// request. Transport calls it; code that applies adapters itself may too.
// It must be safe for concurrent use.
type TokenInvalidator interface {
	InvalidateToken(c *credentials.Connection, req *http.Request)
}

// AdapterFunc adapts an ordinary function to the Adapter interface.
type AdapterFunc func(ctx context.Context, c *credentials.Connection, req *http.Request) error

// Apply calls f(ctx, c, req).
func (f AdapterFunc) Apply(ctx context.Context, c *credentials.Connection, req *http.Request) error {
	return f(ctx, c, req)
}

// The errors of a connection that cannot be applied are defined once, in
// package credentials; these names are the same errors (same identity for
// errors.Is and errors.As), kept so that code written against schemes
// still compiles.
var (
	// ErrUnknownScheme is credentials.ErrUnknownScheme: matched by every
	// *UnknownSchemeError.
	ErrUnknownScheme = credentials.ErrUnknownScheme
	// ErrMissingField is credentials.ErrMissingField: matched by every
	// *MissingFieldError.
	ErrMissingField = credentials.ErrMissingField
)

// UnknownSchemeError is credentials.UnknownSchemeError: a connection whose
// auth scheme has no adapter in the registry used.
type UnknownSchemeError = credentials.UnknownSchemeError

// MissingFieldError is credentials.MissingFieldError: a connection field
// an adapter (Scheme set) or a toolkit's base URL (Toolkit set) needs and
// the connection lacks. Field is the wire key, for example "access_token"
// or "subdomain"; the error never holds a value.
type MissingFieldError = credentials.MissingFieldError

// Registry maps auth scheme names to adapters. The zero value is an empty
// registry ready to use; it is safe for concurrent use.
type Registry struct {
	mu       sync.RWMutex
	adapters map[credentials.Scheme]Adapter
}

// NewRegistry returns an empty registry. Use Default, or Default.Clone(),
// for one holding the built-in adapters.
func NewRegistry() *Registry { return &Registry{} }

// Register sets the adapter for scheme s, replacing any earlier one.
// A nil adapter removes s.
func (r *Registry) Register(s credentials.Scheme, a Adapter) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if a == nil {
		delete(r.adapters, s)
		return
	}
	if r.adapters == nil {
		r.adapters = make(map[credentials.Scheme]Adapter)
	}
	r.adapters[s] = a
}

// Lookup returns the adapter registered for s.
func (r *Registry) Lookup(s credentials.Scheme) (Adapter, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	a, ok := r.adapters[s]
	return a, ok
}

// Clone returns a new registry holding the same adapters as r. Adapters
// themselves (and their caches) are shared.
func (r *Registry) Clone() *Registry {
	r.mu.RLock()
	defer r.mu.RUnlock()
	c := &Registry{adapters: make(map[credentials.Scheme]Adapter, len(r.adapters))}
	for s, a := range r.adapters {
		c.adapters[s] = a
	}
	return c
}

// Apply applies c to req with the adapter registered for c.AuthScheme.
// req must be a request the caller owns (a clone of the user's request).
// It returns an *UnknownSchemeError when no adapter is registered.
func (r *Registry) Apply(ctx context.Context, c *credentials.Connection, req *http.Request) error {
	if c == nil {
		return errors.New("schemes: nil connection")
	}
	if req == nil || req.URL == nil {
		return errors.New("schemes: nil request or request URL")
	}
	a, ok := r.Lookup(c.AuthScheme)
	if !ok {
		return &UnknownSchemeError{Scheme: c.AuthScheme}
	}
	return a.Apply(ctx, c, req)
}

// Default holds the built-in adapter of every scheme Composio defines, each
// with its default configuration:
//
//	OAUTH2, DCR_OAUTH, S2S_OAUTH2  &OAuth2{}
//	BEARER_TOKEN                   Bearer{}
//	BASIC                          Basic{}
//	BASIC_WITH_JWT                 BasicWithJWT{}
//	API_KEY                        &APIKey{}
//	OAUTH1                         &OAuth1{}
//	NO_AUTH                        NoAuth{}
//	SERVICE_ACCOUNT                &GitHubApp{}
//	GOOGLE_SERVICE_ACCOUNT         &GoogleServiceAccount{}
//
// Register on Default to add or replace an adapter process-wide, or on
// Default.Clone() for a registry of your own.
var Default = newDefault()

func newDefault() *Registry {
	r := NewRegistry()
	oauth2 := &OAuth2{}
	r.Register(credentials.OAuth2, oauth2)
	r.Register(credentials.DCROAuth, oauth2)
	r.Register(credentials.S2SOAuth2, oauth2)
	r.Register(credentials.BearerToken, Bearer{})
	r.Register(credentials.Basic, Basic{})
	r.Register(credentials.BasicWithJWT, BasicWithJWT{})
	r.Register(credentials.APIKey, &APIKey{})
	r.Register(credentials.OAuth1, &OAuth1{})
	r.Register(credentials.NoAuth, NoAuth{})
	r.Register(credentials.ServiceAccount, &GitHubApp{})
	r.Register(credentials.GoogleServiceAccount, &GoogleServiceAccount{})
	return r
}
