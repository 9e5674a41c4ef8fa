package schemes

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
)

// Transport is the direct-mode http.RoundTripper: it applies a
// connection's credentials locally and sends each request straight to the
// upstream API, without Composio's proxy. Use it offline, in tests, or
// when your team holds the credentials itself:
//
//	client := &http.Client{Transport: &schemes.Transport{Connection: conn}}
//
// For each request it takes the connection (Source, else Connection),
// checks it (credentials' Validate, for the eleven known schemes), resolves
// the connection's base URL (base_url, else the toolkit's entry in
// Toolkits), resolves a URL without a host against it (the request path is
// appended to the base URL's path, so "/repos/o/r" against
// "https://ghe.example.com/api/v3" gives
// "https://ghe.example.com/api/v3/repos/o/r"), applies the adapter
// Registry holds for the connection's auth scheme to a clone of the
// request, and sends the clone with Base.
//
// Credentials go only to the connection's site: the adapter is applied
// only when the request URL has the base URL's scheme, port and
// registrable domain under the full public suffix list, private domains
// included (SameCredentialSite: "https://uploads.github.com" is on the
// site of "https://api.github.com"; "http://api.github.com",
// "https://api.github.com:8443" and, for a connection on
// acme.atlassian.net, "https://evil.atlassian.net" are not), or a host
// its toolkit declares in Toolkit.CredentialHosts (the Google toolkits:
// "*.googleapis.com"). A request to any other URL, such as a redirect that
// http.Client follows to a CDN or to another tenant, is sent as it is,
// without credentials, rather than failing (OnWithheld hears of it; Strict
// makes it an error). This is stricter than the
// proxy's OriginMismatch rule (SameRegistrableDomain: ICANN suffixes only,
// ports ignored), which would let one atlassian.net tenant reach another. A connection whose base URL cannot be resolved is an
// error even for absolute URLs, since its site is unknown: set base_url,
// or register the toolkit in Toolkits.
//
// When the upstream answers 401 to a request whose credentials an adapter
// applied, and that adapter is a TokenInvalidator (OAuth2, GitHubApp,
// GoogleServiceAccount), the adapter drops the token the request carried,
// so the next request exchanges again; the 401 is returned as it is. A
// token obtained after such a drop, and refused with 401 again less than
// the adapter's InvalidateCooldown (DefaultInvalidateCooldown, 30 seconds)
// after it was obtained, is kept: the 401 is returned as it is and no new
// exchange starts until the cooldown has passed. An upstream that refuses
// every token (a revoked app, a token it will never accept) so costs one
// exchange per cooldown, not one per request, which could get the client
// rate-limited at the token endpoint or its refresh token revoked.
// Concurrent requests share one exchange either way.
//
// Like the proxy Transport it never modifies the caller's request, closes
// the request body on every path including errors, returns the upstream's
// response for any status, and is safe for concurrent use. Do not change
// its fields after first use.
type Transport struct {
	// Source supplies the connection per request (credentials that rotate).
	// It wins over Connection.
	Source credentials.Source
	// Connection is used when Source is nil. It is read, never modified.
	Connection *credentials.Connection
	// Registry maps auth schemes to adapters. Default: Default.
	Registry *Registry
	// Toolkits resolves the connection's base URL (for relative URLs and
	// the site credentials go to). Default: DefaultToolkits.
	Toolkits *ToolkitRegistry
	// Base sends the authenticated request. Default: http.DefaultTransport.
	Base http.RoundTripper
	// Strict makes a request whose credentials would be withheld (its URL
	// is off the connection's site) fail with a *WithheldError
	// (ErrCredentialsWithheld) before anything is sent, instead of going
	// out without credentials, so that a wrong or missing base_url shows
	// as an error rather than as the upstream's 401. Redirects that an
	// http.Client follows (the request's Response is set) are still sent
	// without credentials, as net/http itself drops Authorization on a
	// redirect to another domain: a download redirected to a CDN works.
	// Default: false.
	Strict bool
	// OnWithheld, when set, is called for each request sent without
	// credentials because its URL is off the connection's site (not for
	// those Strict refuses), with the request and what was withheld where.
	// It must be safe for concurrent use. Default: nil, and such requests
	// are logged on slog.Default() at debug level, message
	// "schemes: credentials withheld", with url, site and toolkit.
	OnWithheld func(req *http.Request, e *WithheldError)
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req == nil {
		return nil, composiohttp.ErrNilRequest
	}
	// One owner of the caller's body, as in x/oauth2's Transport: this
	// defer closes body on every path until the request is handed to
	// Base. body is req.Body, or the body an adapter put in its place
	// (Adapter closes a body it replaces).
	body := req.Body
	reqBodyClosed := false
	defer func() {
		if !reqBodyClosed && body != nil {
			body.Close()
		}
	}()
	if req.URL == nil {
		return nil, fmt.Errorf("schemes: request has no URL: %w", composiohttp.ErrBadRequest)
	}
	ctx := req.Context()
	conn := t.Connection
	if t.Source != nil {
		c, err := t.Source.Connection(ctx)
		if err != nil {
			return nil, err
		}
		conn = c
	}
	if conn == nil {
		return nil, fmt.Errorf("schemes: Transport has no Connection or Source: %w", composiohttp.ErrNoAuthContext)
	}
	if conn.AuthScheme.Known() {
		if err := conn.Validate(); err != nil {
			return nil, err
		}
	}
	reg := cmp.Or(t.Registry, Default)
	adapter, ok := reg.Lookup(conn.AuthScheme)
	if !ok {
		return nil, &UnknownSchemeError{Scheme: conn.AuthScheme}
	}
	tks := cmp.Or(t.Toolkits, DefaultToolkits)
	_, site, err := tks.resolveBaseURL(conn)
	if err != nil {
		return nil, err
	}
	r2 := req.Clone(ctx)
	if r2.URL.Host == "" {
		u, err := joinURL(site, r2.URL)
		if err != nil {
			return nil, err
		}
		r2.URL, r2.Host = u, ""
	}
	applied := onCredentialSite(tks, conn.ToolkitSlug, site, r2.URL)
	if applied {
		err := adapter.Apply(ctx, conn, r2)
		body = r2.Body
		if err != nil {
			return nil, err
		}
	} else {
		we := withheld(r2.URL, site, conn.ToolkitSlug)
		if t.Strict && req.Response == nil {
			return nil, we
		}
		t.reportWithheld(req, we)
	}
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	reqBodyClosed = true // Base closes r2.Body
	resp, err := base.RoundTrip(r2)
	if err == nil && resp != nil && resp.StatusCode == http.StatusUnauthorized && applied {
		if inv, ok := adapter.(TokenInvalidator); ok {
			inv.InvalidateToken(conn, r2) // reads r2's header only
		}
	}
	return resp, err
}

// joinURL appends rel's path and query to base.
func joinURL(base, rel *url.URL) (*url.URL, error) {
	u := *base
	rp := rel.EscapedPath()
	if rp != "" && !strings.HasPrefix(rp, "/") {
		rp = "/" + rp
	}
	p, err := url.Parse(strings.TrimRight(u.EscapedPath(), "/") + rp)
	if err != nil {
		return nil, fmt.Errorf("schemes: invalid request path: %w", composiohttp.ErrBadRequest)
	}
	u.Path, u.RawPath = p.Path, p.RawPath
	switch {
	case u.RawQuery == "":
		u.RawQuery = rel.RawQuery
	case rel.RawQuery != "":
		u.RawQuery += "&" + rel.RawQuery
	}
	u.Fragment, u.RawFragment = "", ""
	return &u, nil
}
