package composiohttp

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"

	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/internal/redact"
	"github.com/composiohttp/composiohttp/internal/urlredact"
)

// The download policy: where a binary_data.url may point. The proxy
// returns such a URL for a binary upstream body, and the Transport fetches
// it with Base (no Composio key is sent there), so the URL decides where
// the Transport connects and whose bytes come back as the upstream's.

// ErrDownloadNotAllowed: a binary_data.url that the download policy
// refuses. The concrete error is *DownloadError; it matches ErrBinaryBody
// too.
var ErrDownloadNotAllowed = errors.New("composiohttp: download not allowed")

// DownloadError is a binary_data.url refused by the download policy
// (nothing was fetched). It matches ErrDownloadNotAllowed and
// ErrBinaryBody with errors.Is.
type DownloadError struct {
	// Host is the refused URL's host. Its path and signed query are never
	// shown.
	Host string
	// Reason says which rule refused it.
	Reason string
	// Err is the error of Transport.AllowDownload, when it vetoed,
	// wrapped (errors.Is and errors.As reach it) so that its text shows
	// none of the URL's secrets (see vetoError).
	Err error
}

func (e *DownloadError) Error() string {
	msg := "composiohttp: download of the binary body from " + e.Host + " not allowed: " + e.Reason
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Is makes errors.Is(err, ErrDownloadNotAllowed) and errors.Is(err,
// ErrBinaryBody) true.
func (e *DownloadError) Is(target error) bool {
	return target == ErrDownloadNotAllowed || target == ErrBinaryBody
}

// Unwrap returns the hook's error, if any.
func (e *DownloadError) Unwrap() error { return e.Err }

// vetoError wraps the error of Transport.AllowDownload, which was handed
// the signed URL and may quote it: its text (and every fmt verb) shows
// err's text without the URL's secrets (urlSecrets); Unwrap returns err.
func vetoError(err error, u *url.URL) error {
	return &scrubbedError{err: err, secrets: urlSecrets(u)}
}

type scrubbedError struct {
	err     error
	secrets []string
}

func (e *scrubbedError) Error() string { return credentials.Scrub(e.err.Error(), e.secrets...) }
func (e *scrubbedError) Unwrap() error { return e.err }

// Format prints only the scrubbed text, whatever the verb.
func (e *scrubbedError) Format(f fmt.State, verb rune) {
	s := e.Error()
	redact.Format(f, verb, s, fmt.Sprintf("errors.New(%q)", s))
}

// urlSecrets returns what u carries that must not be shown: its password
// and the values of its secret query parameters (credentials.IsSecretParam:
// a signature, a token, a credential), each as written and as a URL
// quotes it, and the rest of what credentials.RedactURL hides
// (urlredact.ParamSecrets: secret path parameters, a secret after a ";"
// or escaped inside a query value).
func urlSecrets(u *url.URL) []string {
	var out []string
	if u.User != nil {
		if p, ok := u.User.Password(); ok {
			out = append(out, p, url.UserPassword("", p).String()[1:])
		}
	}
	for name, vs := range u.Query() {
		if credentials.IsSecretParam(name) {
			for _, v := range vs {
				out = append(out, v, url.QueryEscape(v))
			}
		}
	}
	// What else RedactURL hides: secret path parameters
	// ("/obj;jsessionid=…"), a secret after a ";" in the query (which
	// u.Query drops), one escaped inside a value, raw and decoded.
	return append(out, urlredact.ParamSecrets(u)...)
}

// metadataAddrs are cloud metadata services outside the link-local ranges
// (AWS's IPv6 IMDS, Alibaba Cloud's).
var metadataAddrs = []netip.Addr{
	netip.MustParseAddr("fd00:ec2::254"),
	netip.MustParseAddr("100.100.100.200"),
}

// checkDownload applies the download policy to a binary_data.url (already
// known to be an absolute http(s) URL): targetRule with http allowed only
// when the proxy's BaseURL is http (a local fake), then
// Transport.AllowDownload, if set, may veto.
func (t *Transport) checkDownload(c *config, raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return &DownloadError{Host: "?", Reason: "not a URL"}
	}
	if reason := targetRule(c, u, c.proxyURL.Scheme == "http"); reason != "" {
		return &DownloadError{Host: u.Host, Reason: reason}
	}
	if t.AllowDownload != nil {
		if err := t.AllowDownload(u); err != nil {
			return &DownloadError{Host: u.Host, Reason: "vetoed by Transport.AllowDownload", Err: vetoError(err, u)}
		}
	}
	return nil
}

// targetRule says why the Transport must not connect to u on an
// upstream's say-so (a binary_data.url, an off-site redirect), or "":
//
//   - https only, unless allowHTTP;
//   - never a link-local address (169.254.0.0/16, the cloud metadata
//     service's, and fe80::/10), a multicast or unspecified one, or a known
//     metadata address (fd00:ec2::254, 100.100.100.200);
//   - a loopback address or localhost only when the proxy's BaseURL is
//     loopback too.
//
// Host names are not resolved: a name that resolves to an internal address
// is for Base's dialer to refuse (net.Dialer.Control).
func targetRule(c *config, u *url.URL, allowHTTP bool) string {
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && allowHTTP:
	default:
		return "not https"
	}
	host := u.Hostname()
	if addr, err := netip.ParseAddr(host); err == nil {
		addr = addr.Unmap()
		switch {
		case addr.IsLinkLocalUnicast() || addr.IsLinkLocalMulticast() || addr.IsInterfaceLocalMulticast():
			return "link-local address (cloud metadata service)"
		case addr.IsMulticast() || addr.IsUnspecified():
			return "multicast or unspecified address"
		case isMetadataAddr(addr):
			return "cloud metadata address"
		case addr.IsLoopback() && !isLoopbackHost(c.proxyURL.Hostname()):
			return "loopback address, and BaseURL is not loopback"
		}
	} else if isLocalhost(host) && !isLoopbackHost(c.proxyURL.Hostname()) {
		return "localhost, and BaseURL is not loopback"
	}
	return ""
}

func isMetadataAddr(a netip.Addr) bool {
	for _, m := range metadataAddrs {
		if a == m {
			return true
		}
	}
	return false
}

func isLocalhost(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	return host == "localhost" || strings.HasSuffix(host, ".localhost")
}

// isLoopbackHost reports whether host is a loopback address or localhost.
func isLoopbackHost(host string) bool {
	if addr, err := netip.ParseAddr(host); err == nil {
		return addr.Unmap().IsLoopback()
	}
	return isLocalhost(host)
}
