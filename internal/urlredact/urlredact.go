// Package urlredact holds the one rule for the URL the logging and
// otelproxy middleware show: the module's redaction, then the user's
// (their WithURLRedactor options).
package urlredact

import (
	"net/url"

	"github.com/composiohttp/composiohttp/credentials"
)

// Shown returns u as a log line or a span shows it: credentials.RedactURL
// (user info, fragment and secret query values hidden), then, when user is
// not nil, user applied to a copy of that, whose result is shown unless it
// is nil (then the default redaction is). u is never modified. changed
// reports whether the result may differ from u: RedactURL changed it, or
// user returned a URL. A nil u is shown as nil, without calling user.
func Shown(u *url.URL, user func(*url.URL) *url.URL) (shown *url.URL, changed bool) {
	shown, changed = credentials.RedactURL(u)
	if user != nil && shown != nil {
		cp := *shown
		if r := user(&cp); r != nil {
			shown, changed = r, true
		}
	}
	return shown, changed
}
