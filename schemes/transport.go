package schemes

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

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
// a URL without a host against the connection's base URL (base_url, else
// the toolkit's entry in Toolkits; the request path is appended to the
// base URL's path, so "/repos/o/r" against "https://ghe.example.com/api/v3"
// gives "https://ghe.example.com/api/v3/repos/o/r"), applies the adapter
// Registry holds for the connection's auth scheme to a clone of the
// request, and sends the clone with Base.
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
	// Toolkits resolves relative URLs. Default: DefaultToolkits.
	Toolkits *ToolkitRegistry
	// Base sends the authenticated request. Default: http.DefaultTransport.
	Base http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	closeBody := func() {
		if req.Body != nil {
			req.Body.Close()
		}
	}
	if req.URL == nil {
		closeBody()
		return nil, errors.New("schemes: request has no URL")
	}
	ctx := req.Context()
	conn := t.Connection
	if t.Source != nil {
		c, err := t.Source.Connection(ctx)
		if err != nil {
			closeBody()
			return nil, err
		}
		conn = c
	}
	if conn == nil {
		closeBody()
		return nil, errors.New("schemes: Transport has no Connection or Source")
	}
	if conn.AuthScheme.Known() {
		if err := conn.Validate(); err != nil {
			closeBody()
			return nil, err
		}
	}
	r2 := req.Clone(ctx)
	if r2.URL.Host == "" {
		tks := t.Toolkits
		if tks == nil {
			tks = DefaultToolkits
		}
		base, err := tks.ResolveBaseURL(conn)
		if err != nil {
			closeBody()
			return nil, err
		}
		u, err := joinURL(base, r2.URL)
		if err != nil {
			closeBody()
			return nil, err
		}
		r2.URL, r2.Host = u, ""
	}
	reg := t.Registry
	if reg == nil {
		reg = Default
	}
	if err := reg.Apply(ctx, conn, r2); err != nil {
		closeBody()
		if r2.Body != nil && r2.Body != req.Body {
			r2.Body.Close()
		}
		return nil, err
	}
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	// Base closes r2.Body, which is req.Body unless an adapter replaced it
	// (and then closed the original).
	return base.RoundTrip(r2)
}

// joinURL appends rel's path and query to base.
func joinURL(base string, rel *url.URL) (*url.URL, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, errors.New("schemes: invalid base URL")
	}
	rp := rel.EscapedPath()
	if rp != "" && !strings.HasPrefix(rp, "/") {
		rp = "/" + rp
	}
	p, err := url.Parse(strings.TrimRight(u.EscapedPath(), "/") + rp)
	if err != nil {
		return nil, errors.New("schemes: invalid request path")
	}
	u.Path, u.RawPath = p.Path, p.RawPath
	switch {
	case u.RawQuery == "":
		u.RawQuery = rel.RawQuery
	case rel.RawQuery != "":
		u.RawQuery += "&" + rel.RawQuery
	}
	u.Fragment, u.RawFragment = "", ""
	return u, nil
}
