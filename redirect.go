package composiohttp

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/internal/httpurl"

	"golang.org/x/net/publicsuffix"
)

// Off-site redirects. An upstream may answer with a redirect to another
// site: go-github's DownloadReleaseAsset gets a 302 from api.github.com to
// a pre-signed URL on objects.githubusercontent.com, Drive's alt=media to
// *.googleusercontent.com. Through the proxy, such a request fails (400
// OriginMismatch), and it should not carry the account's credentials
// anyway: the URL is its own authorization. So the Transport sends it
// directly through Base, without the Composio key or credentials.

// ErrRedirectNotAllowed: an off-site redirect that may not be sent
// directly: a method other than GET or HEAD, http after an https request,
// or a target the download policy refuses (an internal address, a veto of
// Transport.AllowDownload). Nothing was sent.
var ErrRedirectNotAllowed = errors.New("composiohttp: off-site redirect not allowed")

// redirectTTL is how long a Transport remembers an off-site Location it
// returned, for clients that follow redirects by hand with a new request
// (go-github's DownloadReleaseAsset); pre-signed URLs expire within
// minutes.
const (
	redirectTTL        = 10 * time.Minute
	maxRememberedLinks = 256
)

// sameSite reports whether a and b are one site for off-site redirects:
// the same scheme, port and registrable domain by the whole public suffix
// list, private section included (acme.myshopify.com and
// evil.myshopify.com are two sites), so that credentials never follow a
// redirect to another tenant of a shared platform listed there. A platform
// the list does not name is one site: atlassian.net is not in it, so a
// redirect from acme.atlassian.net to evil.atlassian.net goes through the
// proxy, where the service's own rule (OriginMismatch, registrable domain)
// applies. IP addresses and hosts without a public suffix are their own
// site.
func sameSite(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && httpurl.Port(a) == httpurl.Port(b) && siteOf(a.Hostname()) == siteOf(b.Hostname())
}

func siteOf(host string) string {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if _, err := netip.ParseAddr(host); err == nil {
		return host
	}
	if s, err := publicsuffix.EffectiveTLDPlusOne(host); err == nil {
		return s
	}
	return host
}

// redirectMemory remembers off-site Locations the Transport returned,
// each with the URL of the request that led there, so that a new request
// for one of them (a redirect followed by hand) is treated as the
// redirect it is. Bounded: the oldest go first.
type redirectMemory struct {
	mu    sync.Mutex
	links map[string]remembered
	order []string
	// any is set once a link has been added: until then lookups cost
	// nothing (no lock, no URL string).
	any atomic.Bool
}

type remembered struct {
	origin  *url.URL
	expires time.Time
}

func (m *redirectMemory) add(target string, origin *url.URL, now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.links == nil {
		m.links = make(map[string]remembered)
	}
	if _, ok := m.links[target]; !ok {
		if len(m.order) >= maxRememberedLinks {
			delete(m.links, m.order[0])
			m.order = m.order[1:]
		}
		m.order = append(m.order, target)
	}
	m.links[target] = remembered{origin: origin, expires: now.Add(redirectTTL)}
	m.any.Store(true)
}

func (m *redirectMemory) lookup(target string, now time.Time) *url.URL {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.links[target]
	if !ok || now.After(r.expires) {
		return nil
	}
	return r.origin
}

// redirectOrigin returns the URL of the request a redirect started from,
// or nil when req is not a redirect: req.Response is set by http.Client
// when it follows one; a new request for a Location the Transport
// returned is a redirect followed by hand.
func (t *Transport) redirectOrigin(req *http.Request) *url.URL {
	first := req
	for first.Response != nil && first.Response.Request != nil {
		first = first.Response.Request
	}
	if first.URL == nil {
		return nil
	}
	if t.redirects.any.Load() {
		if o := t.redirects.lookup(first.URL.String(), time.Now()); o != nil {
			return o
		}
	}
	if first == req {
		return nil
	}
	return first.URL
}

// offSite reports whether req is a redirect to another site than the
// request it started from, to be sent directly. Relative URLs (resolved by
// the proxy) are never off-site.
func (t *Transport) offSite(req *http.Request) (origin *url.URL, ok bool) {
	if t.ProxyOffSiteRedirects || req.URL.Host == "" {
		return nil, false
	}
	origin = t.redirectOrigin(req)
	if origin == nil || origin.Host == "" || sameSite(origin, req.URL) {
		return nil, false
	}
	return origin, true
}

// remember notes the Location of an off-site redirect the Transport
// returns, for redirectOrigin.
func (t *Transport) remember(req *http.Request, resp *http.Response) {
	if t.ProxyOffSiteRedirects || resp.StatusCode < 300 || resp.StatusCode > 399 || req.URL.Host == "" {
		return
	}
	loc := resp.Header.Get("Location")
	if loc == "" {
		return
	}
	target, err := req.URL.Parse(loc)
	if err != nil || target.Host == "" {
		return
	}
	origin := t.redirectOrigin(req)
	if origin == nil {
		origin = req.URL
	}
	if origin.Host != "" && !sameSite(origin, target) {
		target.Fragment, target.RawFragment = "", ""
		t.redirects.add(target.String(), origin, time.Now())
	}
}

// checkDirect says whether an off-site redirect may be sent directly
// (sendDirect): nil, or an error matching ErrRedirectNotAllowed. It sends
// nothing, so the caller still owns req.Body when it refuses.
func (t *Transport) checkDirect(req *http.Request, c *config, method string, origin *url.URL) error {
	refuse := func(why string) error {
		return fmt.Errorf("%w: %s to %s: %s", ErrRedirectNotAllowed, method, req.URL.Host, why)
	}
	if method != http.MethodGet && method != http.MethodHead {
		return refuse("only GET and HEAD follow a redirect to another site")
	}
	if reason := targetRule(c, req.URL, strings.EqualFold(origin.Scheme, "http")); reason != "" {
		return refuse(reason)
	}
	if t.AllowDownload != nil {
		if err := t.AllowDownload(req.URL); err != nil {
			return fmt.Errorf("%w: %s to %s: vetoed by Transport.AllowDownload: %w", ErrRedirectNotAllowed, method, req.URL.Host, vetoError(err, req.URL))
		}
	}
	return nil
}

// sendDirect sends an off-site redirect that checkDirect allowed through
// Base, without the proxy: no Composio key, no account credentials, and
// none of the caller's secret headers: Authorization, Proxy-Authorization,
// Cookie and any other whose name credentials.IsSecret marks (X-Api-Key,
// Private-Token, ...), the headers logging redacts (a pre-signed URL is
// its own authorization; a storage service refuses a second one). Base
// closes req.Body.
func (t *Transport) sendDirect(req *http.Request, c *config) (*http.Response, error) {
	if info := CallInfoFromContext(req.Context()); info != nil {
		info.SentDirect = true // RoundTrip has zeroed the Transport's other fields
	}
	out := req.Clone(req.Context())
	for name := range out.Header {
		if credentials.IsSecret(name) {
			delete(out.Header, name)
		}
	}
	resp, err := c.base.RoundTrip(out)
	if err != nil {
		return nil, err
	}
	resp.Request = req
	return resp, nil
}
