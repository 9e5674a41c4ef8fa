package schemes

import (
	"cmp"
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/composiohttp/composiohttp/credentials"
)

// NoAuth is the NO_AUTH adapter: it leaves the request as it is.
type NoAuth struct{}

// Apply does nothing.
func (NoAuth) Apply(context.Context, *credentials.Connection, *http.Request) error { return nil }

// Bearer is the BEARER_TOKEN adapter: "Authorization: Bearer <token>", from
// the connection's token field, else bearer_token.
type Bearer struct{}

// Apply sets the Authorization header.
func (Bearer) Apply(_ context.Context, c *credentials.Connection, req *http.Request) error {
	t := cmp.Or(c.Val.Token, c.Val.BearerToken)
	if t == "" {
		return &MissingFieldError{Scheme: c.AuthScheme, Field: "token"}
	}
	req.Header.Set("Authorization", "Bearer "+t)
	return nil
}

// Basic is the BASIC adapter: "Authorization: Basic <basic_encoded>", or
// the base64 of "username:password" when basic_encoded is empty (an empty
// password is allowed, an empty username is not).
type Basic struct{}

// Apply sets the Authorization header.
func (Basic) Apply(_ context.Context, c *credentials.Connection, req *http.Request) error {
	return applyBasic(c, req)
}

// BasicWithJWT is the BASIC_WITH_JWT adapter. It sends the connection's
// basic credentials exactly as Basic does. A toolkit of this scheme whose
// API wants a JWT obtained from those credentials (a login endpoint that
// returns a token) needs that exchange too, which depends on the toolkit:
// register an Adapter of your own for BASIC_WITH_JWT that performs it and
// sets the token, falling back to BasicWithJWT for other toolkits.
type BasicWithJWT struct{}

// Apply sets the Authorization header.
func (BasicWithJWT) Apply(_ context.Context, c *credentials.Connection, req *http.Request) error {
	return applyBasic(c, req)
}

func applyBasic(c *credentials.Connection, req *http.Request) error {
	enc := c.Val.BasicEncoded
	if enc == "" {
		if c.Val.Username == "" {
			return &MissingFieldError{Scheme: c.AuthScheme, Field: "username"}
		}
		enc = basicAuth(c.Val.Username, c.Val.Password)
	}
	req.Header.Set("Authorization", "Basic "+enc)
	return nil
}

func basicAuth(user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
}

// APIKey is the API_KEY adapter. The key is the connection's api_key, else
// generic_api_key, placed where the toolkit's entry in Toolkits says
// (Toolkit.APIKey; a toolkit missing from the registry gets the zero
// Placement, "Authorization: Bearer <key>"), followed by the toolkit's
// APIKeyExtra fields. A connection with neither key but a bearer_token
// gets "Authorization: Bearer <bearer_token>"; one with only basic_encoded
// gets "Authorization: Basic <basic_encoded>".
type APIKey struct {
	// Toolkits is where placements are looked up. Default: DefaultToolkits.
	Toolkits *ToolkitRegistry
}

// Apply places the key.
func (a *APIKey) Apply(_ context.Context, c *credentials.Connection, req *http.Request) error {
	tks := a.Toolkits
	if tks == nil {
		tks = DefaultToolkits
	}
	tk, _ := tks.Lookup(c.ToolkitSlug)
	v := &c.Val
	switch key := cmp.Or(v.APIKey, v.GenericAPIKey); {
	case key != "":
		if err := place(c, req, tk.APIKey, key); err != nil {
			return err
		}
	case v.BearerToken != "":
		req.Header.Set("Authorization", "Bearer "+v.BearerToken)
	case v.BasicEncoded != "":
		req.Header.Set("Authorization", "Basic "+v.BasicEncoded)
	default:
		return &MissingFieldError{Scheme: c.AuthScheme, Field: "api_key"}
	}
	for _, fp := range tk.APIKeyExtra {
		val, ok := field(v, fp.Field)
		if !ok {
			return &MissingFieldError{Scheme: c.AuthScheme, Field: fp.Field}
		}
		if err := place(c, req, fp.Placement, val); err != nil {
			return err
		}
	}
	return nil
}

func place(c *credentials.Connection, req *http.Request, p Placement, key string) error {
	switch {
	case p.Basic:
		user := cmp.Or(p.BasicUser, c.Val.Username)
		req.Header.Set("Authorization", "Basic "+basicAuth(user, key))
	case p.Query != "":
		setQuery(req.URL, p.Query, key)
	case p.Header != "":
		if strings.ContainsAny(p.Header, " :\r\n") {
			return fmt.Errorf("schemes: toolkit %q: invalid header name %q", c.ToolkitSlug, p.Header)
		}
		req.Header.Set(p.Header, p.Prefix+key)
	default:
		req.Header.Set("Authorization", "Bearer "+key)
	}
	return nil
}

// setQuery sets query parameter name to value, keeping the order and the
// encoding of the other parameters.
func setQuery(u *url.URL, name, value string) {
	pair := url.QueryEscape(name) + "=" + url.QueryEscape(value)
	var kept []string
	if u.RawQuery != "" {
		for _, p := range strings.Split(u.RawQuery, "&") {
			k, _, _ := strings.Cut(p, "=")
			if uk, err := url.QueryUnescape(k); err == nil && uk == name {
				continue
			}
			kept = append(kept, p)
		}
	}
	u.RawQuery = strings.Join(append(kept, pair), "&")
	u.ForceQuery = false
}
