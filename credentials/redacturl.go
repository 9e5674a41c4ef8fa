package credentials

import (
	"net/url"
	"strings"
)

// RedactedParam replaces the value of a secret query parameter in
// RedactURL and RedactQuery. It is Redacted: the module spells a
// redaction one way everywhere.
const RedactedParam = Redacted

// IsSecretParam reports whether a query parameter's value must not be
// shown: IsSecret (token, secret, key, pass, auth, signature, ...) plus
// "sig" and "code" (signed URLs, OAuth authorization codes).
func IsSecretParam(name string) bool {
	if IsSecret(name) {
		return true
	}
	switch strings.ToLower(name) {
	case "sig", "code":
		return true
	}
	return false
}

// RedactURL returns u without user info, without its fragment (OAuth's
// implicit flow puts #access_token=... there) and with the values of
// secret query parameters (IsSecretParam) replaced by RedactedParam, and
// whether that differs from u, for logs and span attributes. u itself is
// not modified; when nothing is secret it is returned as is, without
// allocating.
func RedactURL(u *url.URL) (*url.URL, bool) {
	if u == nil || (u.User == nil && u.Fragment == "" && u.RawFragment == "" && !hasSecretParam(u.RawQuery)) {
		return u, false
	}
	r := *u
	r.User = nil
	r.Fragment, r.RawFragment = "", ""
	r.RawQuery = RedactQuery(u.RawQuery)
	return &r, true
}

// hasSecretParam reports whether RedactQuery would change q.
func hasSecretParam(q string) bool {
	for q != "" {
		var pair string
		pair, q, _ = strings.Cut(q, "&")
		name, _, hasValue := strings.Cut(pair, "=")
		if !hasValue {
			continue // no value to hide, here or in a ";" part of it
		}
		if paramSecret(name) {
			return true
		}
		for pair != "" {
			var part string
			part, pair, _ = strings.Cut(pair, ";")
			if name, _, hasValue := strings.Cut(part, "="); hasValue && paramSecret(name) {
				return true
			}
		}
	}
	return false
}

// paramSecret decides on a raw (escaped) parameter name; a name that does
// not unescape is treated as secret.
func paramSecret(raw string) bool {
	if strings.ContainsAny(raw, "%+") {
		n, err := url.QueryUnescape(raw)
		if err != nil {
			return true
		}
		raw = n
	}
	return IsSecretParam(raw)
}

// RedactQuery returns a raw query (or form body) with the values of
// secret parameters (IsSecretParam) replaced by RedactedParam. Parameters
// are separated by "&" and, since some servers split on it too, by ";":
// a secret value is hidden as far as either kind of server reads it (a
// secret name before any ";" hides its value up to the next "&"; one
// after a ";" hides it up to the next ";" or "&"). Everything else,
// separators included, is kept as it was. Only what is shown changes:
// the request sent is never rewritten.
func RedactQuery(q string) string {
	var b strings.Builder
	b.Grow(len(q))
	for {
		pair, rest, more := strings.Cut(q, "&")
		redactPair(&b, pair)
		if !more {
			return b.String()
		}
		b.WriteByte('&')
		q = rest
	}
}

// redactPair writes one "&"-separated pair of a query, redacted: all of
// its value when its name is secret, else the value of each of its
// ";"-separated parts whose name is.
func redactPair(b *strings.Builder, pair string) {
	if name, _, hasValue := strings.Cut(pair, "="); hasValue && paramSecret(name) {
		b.WriteString(name)
		b.WriteString("=" + RedactedParam)
		return
	}
	for {
		part, rest, more := strings.Cut(pair, ";")
		if name, _, hasValue := strings.Cut(part, "="); hasValue && paramSecret(name) {
			b.WriteString(name)
			b.WriteString("=" + RedactedParam)
		} else {
			b.WriteString(part)
		}
		if !more {
			return
		}
		b.WriteByte(';')
		pair = rest
	}
}
