// Package urlredact holds the one rule for the URL the logging and
// otelproxy middleware show: the module's redaction, then the user's
// (their WithURLRedactor options); and the one rule for a proxy
// parameter's value and query name as printed (composiohttp.Parameter,
// the fake's recorded envelopes, logging's Dump).
package urlredact

import (
	"net/url"
	"strings"

	"github.com/composiohttp/composiohttp/credentials"
)

// Shown returns u as a log line or a span shows it: credentials.RedactURL
// (user info, fragment, secret query and path parameter values hidden),
// then, when user is not nil, user applied to a copy of that, whose
// result is shown unless it is nil (then the default redaction is). u is never modified. changed
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

// ParamValue returns the value of a proxy parameter (a header when header
// is true, else a query parameter) as it may be printed: credentials.Redacted
// when its name is secret (headers by credentials.IsSecret, query
// parameters by credentials.IsSecretParam) and it is set; a query value
// that reads as parameters of its own ("1;access_token=…", also once
// decoded: "1%3Baccess_token%3D…") to a server splitting on ";" or "&"
// with its secret ones hidden (credentials.RedactQuery); else value.
func ParamValue(name, value string, header bool) string {
	secret := credentials.IsSecretParam(name)
	if header {
		secret = credentials.IsSecret(name)
	}
	switch {
	case secret && value != "":
		return credentials.Redacted
	case !header && strings.ContainsAny(value, ";&=%"):
		// "%": escaped text that reads as parameters once decoded
		// ("y%3Bsig%3D…"), which the proxy sends on escaped twice.
		return credentials.RedactQuery(value)
	}
	return value
}

// ParamName returns the name of a proxy parameter (a header when header
// is true, else a query parameter) as it may be printed: a query name that
// reads as parameters of its own ("x;sig=…", from the query
// ?x%3Bsig%3D…=1) with their secret values hidden
// (credentials.RedactQuery, as credentials.RedactURL hides the name it is
// sent as); else name. Call ParamValue with the name itself.
func ParamName(name string, header bool) string {
	if header || !strings.ContainsAny(name, ";&=%") {
		return name
	}
	return credentials.RedactQuery(name)
}

// URLString returns a URL written as text (a proxy envelope's endpoint,
// a signed URL) as it may be printed: credentials.RedactURL's result
// when that hides something (user info, fragment, secret query or path
// parameters), credentials.Redacted when s does not parse, else s
// itself, byte for byte.
func URLString(s string) string {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return credentials.Redacted
	}
	if r, changed := credentials.RedactURL(u); changed {
		return r.String()
	}
	return s
}

// URLSecrets returns, for credentials.Scrub, what URLString hides of a
// URL's query and path parameters (credentials.QuerySecrets,
// credentials.PathSecrets: raw, and decoded as a server may echo them)
// and the password of its user info.
func URLSecrets(s string) []string {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return nil
	}
	var out []string
	if p, ok := u.User.Password(); ok {
		out = append(out, p)
	}
	return append(out, ParamSecrets(u)...)
}

// ParamSecrets returns, for credentials.Scrub, what credentials.RedactURL
// hides of u's path parameters (in Opaque for an opaque URL, which shows
// it in place of the path) and query parameters: credentials.PathSecrets
// and credentials.QuerySecrets, raw and decoded.
func ParamSecrets(u *url.URL) []string {
	var out []string
	if u.Opaque == "" {
		out = credentials.PathSecrets(u.EscapedPath())
	} else {
		out = credentials.PathSecrets(u.Opaque) // shown in place of the path
	}
	return append(out, credentials.QuerySecrets(u.RawQuery)...)
}

// ErrorText returns err's text as a log line or a span shows it: the URL
// that each *url.Error in err's chain (errors.Join's branches included)
// quotes is shown as Shown shows it (with user), or as "[unparsable URL]"
// when it does not parse. changed reports whether the text differs from
// err.Error(). err must not be nil.
func ErrorText(err error, user func(*url.URL) *url.URL) (text string, changed bool) {
	text = err.Error()
	out := ReplaceErrorURLs(err, func(raw string) string {
		if u, perr := url.Parse(raw); perr == nil {
			r, _ := Shown(u, user)
			return r.String()
		}
		return "[unparsable URL]"
	})
	return out, out != text
}

// ReplaceErrorURLs returns err's text with the URL that each *url.Error in
// err's chain (Unwrap, and errors.Join's Unwrap []error) quotes replaced by
// show(URL). err must not be nil.
func ReplaceErrorURLs(err error, show func(raw string) string) string {
	out := err.Error()
	for stack := []error{err}; len(stack) > 0; {
		e := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if ue, ok := e.(*url.Error); ok && ue.URL != "" {
			if shown := show(ue.URL); shown != ue.URL {
				out = strings.ReplaceAll(out, ue.URL, shown)
			}
		}
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			if c := u.Unwrap(); c != nil {
				stack = append(stack, c)
			}
		case interface{ Unwrap() []error }:
			for _, c := range u.Unwrap() {
				if c != nil {
					stack = append(stack, c)
				}
			}
		}
	}
	return out
}
