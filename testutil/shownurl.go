package testutil

import (
	"net/url"
	"strings"

	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/internal/urlredact"
)

// shownURL is u as the fake shows it (UpstreamCall.URL, EchoRequest.Path):
// credentials.RedactURL, then each escaped query value that reads as
// parameters of its own once decoded ("1;access_token=…", which the fake
// forwards as 1%3Baccess_token%3D…) with its secret ones hidden, as
// composiohttp.Parameter prints the proxy parameter it came from
// (urlredact.ParamValue). u is never modified.
func shownURL(u *url.URL) *url.URL {
	r, _ := credentials.RedactURL(u)
	if r == nil || !strings.Contains(r.RawQuery, "%") {
		return r // nothing escaped: RedactURL saw every value as it is
	}
	pairs := strings.Split(r.RawQuery, "&")
	changed := false
	for i, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok {
			continue
		}
		dv, err := url.QueryUnescape(v)
		if err != nil || dv == v {
			continue
		}
		name, err := url.QueryUnescape(k)
		if err != nil {
			name = k
		}
		if sv := urlredact.ParamValue(name, dv, false); sv != dv {
			// Escaped as a value again, the redaction mark kept legible.
			pairs[i] = k + "=" + strings.ReplaceAll(url.QueryEscape(sv), url.QueryEscape(credentials.Redacted), credentials.Redacted)
			changed = true
		}
	}
	if !changed {
		return r
	}
	cp := *r
	cp.RawQuery = strings.Join(pairs, "&")
	return &cp
}
