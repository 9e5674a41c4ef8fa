package testutil

import (
	"net/url"
	"strings"

	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/internal/urlredact"
)

// shownURL is u as the fake shows it (UpstreamCall.URL, EchoRequest.Path):
// credentials.RedactURL, except that a query value it hides whole because,
// decoded, it reads as parameters of its own with a secret among them
// ("1;access_token=…", which the fake forwards as 1%3Baccess_token%3D…)
// is shown as composiohttp.Parameter prints the proxy parameter it came
// from (urlredact.ParamValue): only the secret ones hidden. A value that
// does not decode strictly stays hidden whole. u is never modified.
func shownURL(u *url.URL) *url.URL {
	r, changed := credentials.RedactURL(u)
	if !changed || !strings.Contains(u.RawQuery, "%") {
		return r // RedactURL hid nothing escaped
	}
	orig := strings.Split(u.RawQuery, "&")
	pairs := strings.Split(r.RawQuery, "&") // RedactQuery keeps every "&"
	if len(pairs) != len(orig) {
		return r
	}
	rewritten := false
	for i, p := range pairs {
		k, v, _ := strings.Cut(p, "=")
		if v != credentials.Redacted || p == orig[i] || secretParam(k) {
			continue // shown as it was, or hidden for its name
		}
		// Hidden whole for what its value holds: shown instead as the
		// parameter prints, from the value with the ";"-parts hidden
		// for their names (as RedactURL hides them) ...
		parts := strings.Split(orig[i], ";")
		for j, part := range parts {
			if n, _, ok := strings.Cut(part, "="); ok && secretParam(n) {
				parts[j] = n + "=" + credentials.Redacted
			}
		}
		_, ov, _ := strings.Cut(strings.Join(parts, ";"), "=")
		dv, err := url.QueryUnescape(ov)
		if err != nil {
			continue
		}
		name, err := url.QueryUnescape(k)
		if err != nil {
			name = k
		}
		// ... escaped as a value again, the redaction mark kept legible.
		sv := urlredact.ParamValue(name, dv, false)
		pairs[i] = k + "=" + strings.ReplaceAll(url.QueryEscape(sv), url.QueryEscape(credentials.Redacted), credentials.Redacted)
		rewritten = true
	}
	if !rewritten {
		return r
	}
	cp := *r
	cp.RawQuery = strings.Join(pairs, "&")
	return &cp
}

// secretParam reports whether a raw (escaped) query parameter name is
// secret, as RedactURL decides it: credentials.IsSecretParam of the
// name unescaped, and secret when it does not unescape.
func secretParam(raw string) bool {
	n, err := url.QueryUnescape(raw)
	return err != nil || credentials.IsSecretParam(n)
}
