package schemes

import (
	"net"
	"net/url"
	"strings"

	"github.com/composiohttp/composiohttp/internal/httpurl"

	"golang.org/x/net/publicsuffix"
)

// Two site rules live here, for two different jobs; keep them apart.
//
//   - SameRegistrableDomain is the rule of Composio's proxy
//     (OriginMismatch): an absolute endpoint must share the scheme and the
//     registrable domain of the account's base URL by the ICANN section
//     of the public suffix list. testutil's fake applies it as the service
//     does.
//   - SameCredentialSite is the stricter rule direct mode (Transport) uses
//     to decide where a connection's credentials may go: the full list,
//     private domains included (atlassian.net, myshopify.com,
//     herokuapp.com, azurewebsites.net, googleapis.com, github.io, ...,
//     where every tenant or app is its own site), and the same port.
//     A toolkit whose base URL puts the tenant in the host
//     ("https://{subdomain}.atlassian.net"), or a base URL on such a
//     toolkit's domain, narrows it to that very host:
//     atlassian.net and zendesk.com are shared by tenants but not on the
//     list. Toolkit.CredentialHosts widens it per toolkit where one API
//     spans hosts of a private suffix (Google's *.googleapis.com).

// SameRegistrableDomain reports whether a and b have the same scheme and
// the same registrable domain (eTLD+1) by the ICANN section of the public
// suffix list only; ports are ignored. Private suffixes such as
// googleapis.com or atlassian.net count as ordinary domains, so
// gmail.googleapis.com and www.googleapis.com are one site, and so are
// acme.atlassian.net and evil.atlassian.net. This is the proxy's
// OriginMismatch rule, which the fake in testutil applies; it is too loose
// to decide where credentials go (see SameCredentialSite). IP addresses
// and hosts without a public suffix are their own site.
func SameRegistrableDomain(a, b *url.URL) bool {
	if a == nil || b == nil {
		return false
	}
	return strings.EqualFold(a.Scheme, b.Scheme) && registrableICANN(a.Hostname()) == registrableICANN(b.Hostname())
}

// SameCredentialSite reports whether a request to b may carry the
// credentials of a connection whose base URL is a: same scheme, same port
// (a scheme's default port made explicit), and the same registrable domain
// by the full public suffix list, private domains included, so that
// acme.atlassian.net and evil.atlassian.net, or two herokuapp.com apps,
// are different sites, while api.github.com and uploads.github.com are
// one. IP addresses and hosts that are themselves a public suffix are
// their own site. Transport applies it, widened by the toolkit's
// Toolkit.CredentialHosts.
func SameCredentialSite(a, b *url.URL) bool {
	if a == nil || b == nil {
		return false
	}
	return sameSchemePort(a, b) && registrableFull(a.Hostname()) == registrableFull(b.Hostname())
}

// sameSchemePort reports whether a and b have the same scheme and port.
func sameSchemePort(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && httpurl.Port(a) == httpurl.Port(b)
}

// normHost lower-cases host and drops a trailing dot.
func normHost(host string) string {
	return strings.ToLower(strings.TrimSuffix(host, "."))
}

// registrableICANN returns host's eTLD+1 by the ICANN section of the
// public suffix list, or host itself for IP addresses and hosts without
// one.
func registrableICANN(host string) string {
	host = normHost(host)
	if host == "" || net.ParseIP(host) != nil {
		return host
	}
	suffix, icann := publicsuffix.PublicSuffix(host)
	for !icann {
		_, rest, ok := strings.Cut(suffix, ".")
		if !ok {
			break
		}
		suffix, icann = publicsuffix.PublicSuffix(rest)
	}
	i := len(host) - len(suffix) - 1
	if i <= 0 || host[i] != '.' {
		return host
	}
	return host[1+strings.LastIndexByte(host[:i], '.'):]
}

// registrableFull returns host's eTLD+1 by the full public suffix list,
// private domains included, or host itself for IP addresses and hosts
// that are a public suffix or have none.
func registrableFull(host string) string {
	host = normHost(host)
	if host == "" || net.ParseIP(host) != nil {
		return host
	}
	if d, err := publicsuffix.EffectiveTLDPlusOne(host); err == nil {
		return d
	}
	return host
}

// matchHost reports whether host matches pattern: the same name, or, for
// "*.domain", any name under domain (not domain itself).
func matchHost(pattern, host string) bool {
	pattern, host = normHost(pattern), normHost(host)
	if d, ok := strings.CutPrefix(pattern, "*."); ok {
		return strings.HasSuffix(host, "."+d)
	}
	return pattern == host
}

// onCredentialSite reports whether a request to u may carry the
// credentials of a connection of toolkit slug whose base URL is site: with
// the base URL's scheme and port, SameCredentialSite, or, for a toolkit
// whose base URL puts the tenant in the host (tenantHost) or a base URL
// on the tenant domain of any registered toolkit (tenantDomain), the very
// host of the base URL; or a host the toolkit declares in
// Toolkit.CredentialHosts.
func onCredentialSite(tks *ToolkitRegistry, slug string, site, u *url.URL) bool {
	if !sameSchemePort(site, u) {
		return false
	}
	tk, _ := tks.Lookup(slug)
	if tenantHost(tk.BaseURL) || tks.tenantDomain(site.Hostname()) {
		if normHost(site.Hostname()) == normHost(u.Hostname()) {
			return true
		}
	} else if SameCredentialSite(site, u) {
		return true
	}
	for _, p := range tk.CredentialHosts {
		if matchHost(p, u.Hostname()) {
			return true
		}
	}
	return false
}

// tenantHost reports whether a toolkit's base URL template names a
// connection field in its host ("https://{subdomain}.atlassian.net",
// "{instanceEndpoint}"): each tenant has its own host, often on a domain
// the public suffix list does not know as shared (atlassian.net,
// zendesk.com), so the tenant's host is the whole site.
func tenantHost(tmpl string) bool {
	i := strings.IndexByte(tmpl, '{')
	if i < 0 {
		return false
	}
	rest := tmpl
	if _, after, ok := strings.Cut(tmpl, "://"); ok {
		rest = after
	}
	host, _, _ := strings.Cut(rest, "/")
	return strings.ContainsRune(host, '{') || i == 0
}

// tenantDomain reports whether host is one tenant's host under the domain
// of a registered toolkit whose base URL starts with a placeholder label
// ("https://{subdomain}.atlassian.net": acme.atlassian.net), so that a
// connection with such a base_url and no toolkit slug is held to its own
// host as well.
func (r *ToolkitRegistry) tenantDomain(host string) bool {
	host = normHost(host)
	return nextWild(r.hostIndex().wild, host, 0) >= 0
}
