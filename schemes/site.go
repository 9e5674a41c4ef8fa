package schemes

import (
	"net"
	"net/url"
	"strings"

	"golang.org/x/net/publicsuffix"
)

// SameSite reports whether a and b have the same scheme and the same
// registrable domain (eTLD+1); ports are ignored. Registrable domains
// follow the ICANN section of the public suffix list only: private
// suffixes such as googleapis.com or github.io count as ordinary domains,
// so gmail.googleapis.com and www.googleapis.com are one site, as they are
// for Composio's proxy. IP addresses and hosts without a public suffix
// are their own site. Transport sends credentials only to the site of the
// connection's base URL.
func SameSite(a, b *url.URL) bool {
	if a == nil || b == nil {
		return false
	}
	return strings.EqualFold(a.Scheme, b.Scheme) && registrable(a.Hostname()) == registrable(b.Hostname())
}

// registrable returns host's eTLD+1 by the ICANN section of the public
// suffix list, or host itself for IP addresses and hosts without one.
func registrable(host string) string {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
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
