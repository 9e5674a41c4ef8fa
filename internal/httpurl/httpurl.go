// Package httpurl holds the one check for an absolute http(s) URL, used
// wherever the module accepts a URL from configuration or from the wire:
// the Transport's base URL, binary_data.url in replies, toolkit base URLs
// in schemes, and binary_body.url, account base URLs and toolkit base URLs
// in the fake proxy.
package httpurl

import (
	"net/url"
	"strings"
)

// Parse parses s as an absolute URL with the http or https scheme (in any
// case) and a host. It returns nil and false for anything else: a parse
// error, a relative URL, another scheme, or no host.
func Parse(s string) (*url.URL, bool) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, false
	}
	return u, true
}

// Port returns u's port, or its scheme's default port ("443" for https,
// "80" for http, in any case); "" for another scheme without a port.
func Port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return "443"
	case "http":
		return "80"
	}
	return ""
}
