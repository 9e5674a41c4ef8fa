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

func hasSecretParam(q string) bool {
	for q != "" {
		var pair string
		pair, q, _ = strings.Cut(q, "&")
		name, _, _ := strings.Cut(pair, "=")
		if name != "" && paramSecret(name) {
			return true
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
// secret parameters (IsSecretParam) replaced by RedactedParam.
func RedactQuery(q string) string {
	var b strings.Builder
	b.Grow(len(q))
	for i := 0; q != ""; i++ {
		var pair string
		pair, q, _ = strings.Cut(q, "&")
		if i > 0 {
			b.WriteByte('&')
		}
		name, _, hasValue := strings.Cut(pair, "=")
		if hasValue && paramSecret(name) {
			b.WriteString(name)
			b.WriteString("=" + RedactedParam)
			continue
		}
		b.WriteString(pair)
	}
	return b.String()
}
