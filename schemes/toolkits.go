package schemes

import (
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"sync"

	"github.com/composiohttp/composiohttp/internal/httpurl"

	"github.com/composiohttp/composiohttp/credentials"
)

// Placement says where an API key goes on a request. The zero value means
// "Authorization: Bearer <key>", the most common convention, and is what
// toolkits missing from the registry get.
type Placement struct {
	// Header is the header the key goes in. When Header and Query are both
	// empty the key goes in Authorization with the prefix "Bearer ".
	Header string
	// Prefix is written before the key in Header, verbatim (include the
	// trailing space: "Bearer ", "token ", "Bot "). Empty sends the bare key.
	Prefix string
	// Query, when set, puts the key in this query parameter instead of a
	// header.
	Query string
	// Basic, when true, sends HTTP Basic credentials instead: user name
	// BasicUser (or, when empty, the connection's username field) and the
	// key as password. Header, Prefix and Query are then ignored.
	Basic bool
	// BasicUser is the fixed user name sent with Basic.
	BasicUser string
}

// FieldPlacement places one more connection field next to an API key, for
// APIs that want two values (Trello's key and token).
type FieldPlacement struct {
	// Field is the connection field's wire key, e.g. "token".
	Field string
	// Placement says where it goes; Basic is not supported here.
	Placement
}

// Toolkit describes how to reach one toolkit's API.
type Toolkit struct {
	// Slug is the toolkit slug as Composio spells it ("github",
	// "googlecalendar").
	Slug string
	// BaseURL is the API origin relative endpoints are resolved against. It
	// may hold placeholders naming connection fields by wire key, filled by
	// ResolveBaseURL: "https://{subdomain}.zendesk.com", "{instanceEndpoint}".
	// A placeholder in the host marks a tenant's own host: direct mode
	// then sends credentials to that host only (see Transport).
	BaseURL string
	// APIKey says where an API_KEY connection's key goes (see APIKey).
	APIKey Placement
	// APIKeyExtra places further connection fields next to the key.
	APIKeyExtra []FieldPlacement
	// TokenURL is the OAuth 2 token endpoint used to refresh an expired
	// access token; it may hold placeholders like BaseURL. Empty disables
	// refresh.
	TokenURL string
	// CredentialHosts are further hosts the toolkit's credentials belong
	// to, beyond the site of the base URL (see SameCredentialSite): a
	// host name, or "*.domain" for any host under domain. Direct mode
	// (Transport) sends credentials there only with the base URL's scheme
	// and port. The Google toolkits declare "*.googleapis.com", a private
	// suffix under which each host would otherwise be its own site.
	// Default: none.
	CredentialHosts []string
}

// ErrUnknownToolkit is matched (errors.Is) by every *UnknownToolkitError.
var ErrUnknownToolkit = errors.New("schemes: unknown toolkit")

// UnknownToolkitError reports a relative URL for a connection that has no
// base_url and whose toolkit is not in the registry.
type UnknownToolkitError struct {
	Slug string
}

func (e *UnknownToolkitError) Error() string {
	return fmt.Sprintf("schemes: toolkit %q is not registered and the connection has no base_url", e.Slug)
}

// Is reports whether target is ErrUnknownToolkit.
func (e *UnknownToolkitError) Is(target error) bool { return target == ErrUnknownToolkit }

// ToolkitRegistry maps toolkit slugs to Toolkits. The zero value is an
// empty registry ready to use; it is safe for concurrent use. Slugs are
// matched case-insensitively.
type ToolkitRegistry struct {
	mu       sync.RWMutex
	toolkits map[string]Toolkit
	hosts    *hostIndex // built by ToolkitForURL, dropped by Register
}

// NewToolkitRegistry returns a registry holding tks.
func NewToolkitRegistry(tks ...Toolkit) *ToolkitRegistry {
	r := &ToolkitRegistry{}
	for _, tk := range tks {
		r.Register(tk)
	}
	return r
}

// Register adds tk, replacing any toolkit with the same slug.
func (r *ToolkitRegistry) Register(tk Toolkit) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.toolkits == nil {
		r.toolkits = make(map[string]Toolkit)
	}
	r.toolkits[strings.ToLower(tk.Slug)] = tk
	r.hosts = nil
}

// Lookup returns the toolkit registered under slug.
func (r *ToolkitRegistry) Lookup(slug string) (Toolkit, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	tk, ok := r.toolkits[strings.ToLower(slug)]
	return tk, ok
}

// Slugs returns the registered slugs, sorted.
func (r *ToolkitRegistry) Slugs() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	s := make([]string, 0, len(r.toolkits))
	for k := range r.toolkits {
		s = append(s, k)
	}
	sort.Strings(s)
	return s
}

// ResolveBaseURL returns the API origin of c: c.Val.BaseURL when set, else
// the registered toolkit's BaseURL with its placeholders filled from c's
// location fields. A missing field gives a *MissingFieldError, an
// unregistered toolkit an *UnknownToolkitError. The result has no trailing
// slash.
func (r *ToolkitRegistry) ResolveBaseURL(c *credentials.Connection) (string, error) {
	s, _, err := r.resolveBaseURL(c)
	return s, err
}

// resolveBaseURL is ResolveBaseURL, with the URL parsed (Transport's
// site).
func (r *ToolkitRegistry) resolveBaseURL(c *credentials.Connection) (string, *url.URL, error) {
	if c == nil {
		return "", nil, errors.New("schemes: nil connection")
	}
	if c.Val.BaseURL != "" {
		return checkURL(c.ToolkitSlug, "base_url", strings.TrimRight(c.Val.BaseURL, "/"))
	}
	tk, ok := r.Lookup(c.ToolkitSlug)
	if !ok || tk.BaseURL == "" {
		return "", nil, &UnknownToolkitError{Slug: c.ToolkitSlug}
	}
	return fillTemplate(c, tk.BaseURL)
}

// DefaultToolkits holds the built-in toolkit entries, listed in the package
// documentation ("Built-in toolkits"; data in toolkits_data.go).
// Register on it to add or replace entries process-wide.
var DefaultToolkits = NewToolkitRegistry(builtinToolkits...)

// ResolveBaseURL is DefaultToolkits.ResolveBaseURL(c).
func ResolveBaseURL(c *credentials.Connection) (string, error) {
	return DefaultToolkits.ResolveBaseURL(c)
}

// fillTemplate replaces each {field} in tmpl with c's field of that wire
// key. A value filling only part of the URL (a host label) may not carry
// URL syntax; the result must be an absolute http(s) URL, returned parsed
// too.
func fillTemplate(c *credentials.Connection, tmpl string) (string, *url.URL, error) {
	var b strings.Builder
	rest := tmpl
	for {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			b.WriteString(rest)
			break
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			return "", nil, fmt.Errorf("schemes: toolkit %q: unterminated placeholder in %q", c.ToolkitSlug, tmpl)
		}
		name := rest[i+1 : i+j]
		v, _ := field(&c.Val, name)
		v = strings.TrimSpace(v)
		if v == "" {
			return "", nil, &MissingFieldError{Toolkit: c.ToolkitSlug, Field: name}
		}
		whole := i == 0 && i+j+1 == len(rest) && b.Len() == 0
		if whole {
			v = strings.TrimRight(v, "/")
		} else if strings.ContainsAny(v, "/?#@:\\ \t\r\n%") {
			return "", nil, fmt.Errorf("schemes: toolkit %q: connection field %q is not a valid URL part", c.ToolkitSlug, name)
		}
		b.WriteString(rest[:i])
		b.WriteString(v)
		rest = rest[i+j+1:]
	}
	return checkURL(c.ToolkitSlug, "base URL", strings.TrimRight(b.String(), "/"))
}

// checkURL returns s and s parsed, if it is an absolute http(s) URL.
func checkURL(slug, what, s string) (string, *url.URL, error) {
	u, ok := httpurl.Parse(s)
	if !ok {
		return "", nil, fmt.Errorf("schemes: toolkit %q: %s is not an absolute http(s) URL", slug, what)
	}
	return s, u, nil
}

// field returns the connection field with wire key key (typed or extra),
// and whether it is set and non-empty.
func field(v *credentials.Val, key string) (string, bool) {
	s, _ := v.Get(key)
	return s, s != ""
}
