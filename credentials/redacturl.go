package credentials

import (
	"net/url"
	"strings"
)

// RedactedParam replaces the value of a secret query parameter in
// RedactURL and RedactQuery. It is Redacted: the module spells a
// redaction one way everywhere.
const RedactedParam = Redacted

// IsSecretParam reports whether a query (or path) parameter's value
// must not be shown: IsSecret (token, secret, key, pass, auth, signature,
// session — so jsessionid, sessionid, PHPSESSID —, ...) plus "sig",
// "code" and "sid" (signed URLs, OAuth authorization codes, the short
// session id of PHP's session.use_trans_sid and of many web apps),
// matched in any case.
func IsSecretParam(name string) bool {
	if IsSecret(name) {
		return true
	}
	switch strings.ToLower(name) {
	case "sig", "code", "sid":
		return true
	}
	return false
}

// RedactURL returns u without user info, without its fragment (OAuth's
// implicit flow puts #access_token=... there), with the values of
// secret query parameters (IsSecretParam) replaced by RedactedParam (a
// value that reads as parameters once decoded, with a secret among them,
// replaced whole: see RedactQuery) and so the values of secret path
// parameters (RedactPath: "/app;jsessionid=…/x", in Opaque too for an
// opaque URL), and whether that
// differs from u, for logs and span attributes. u itself is not
// modified; when nothing is secret it is returned as is, without
// allocating unless a query name or value holds both an escape and a
// "=" (plain or escaped: "%3D", or an escaped "%": "%25"), which is
// decoded to be looked into, or the path holds a ";".
func RedactURL(u *url.URL) (*url.URL, bool) {
	if u == nil {
		return u, false
	}
	path, pathSecret := "", false
	if mayHavePathParams(u) {
		path = u.EscapedPath()
		pathSecret = hasSecretPathParam(path)
	}
	// An opaque URL shows Opaque in place of its path ("//host/path",
	// how net/url sends a path exactly as written, or "scheme:a;b").
	opaqueSecret := u.Opaque != "" && hasSecretPathParam(u.Opaque)
	if !pathSecret && !opaqueSecret && u.User == nil && u.Fragment == "" && u.RawFragment == "" && !hasSecretParam(u.RawQuery) {
		return u, false
	}
	r := *u
	r.User = nil
	r.Fragment, r.RawFragment = "", ""
	r.RawQuery = RedactQuery(u.RawQuery)
	if opaqueSecret {
		r.Opaque = RedactPath(u.Opaque)
	}
	if pathSecret {
		r.RawPath = RedactPath(path)
		// RawPath is what r.String() shows when it decodes to Path.
		var err error
		if r.Path, err = url.PathUnescape(r.RawPath); err != nil {
			r.Path = r.RawPath
		}
	}
	return &r, true
}

// mayHavePathParams reports whether u.EscapedPath(), which u.String()
// shows, may hold a ";", without allocating: a path whose only ";" are
// escaped ("%3B" in RawPath, which url.Parse keeps) has none.
func mayHavePathParams(u *url.URL) bool {
	if u.Opaque != "" || strings.IndexByte(u.Path, ';') < 0 && strings.IndexByte(u.RawPath, ';') < 0 {
		return false
	}
	return u.RawPath == "" || strings.IndexByte(u.RawPath, ';') >= 0 || !rawPathShown(u.RawPath, u.Path)
}

// rawPathShown reports whether u.EscapedPath() returns raw, the
// u.RawPath of a URL whose Path is path: raw holds only characters a
// path may show unescaped and decodes to path (url.URL's own rule,
// checked without allocating).
func rawPathShown(raw, path string) bool {
	j := 0
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c == '%':
			if i+2 >= len(raw) || !isHex(raw[i+1]) || !isHex(raw[i+2]) {
				return false
			}
			c = unhex(raw[i+1])<<4 | unhex(raw[i+2])
			i += 2
		case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-_.~!$&'()*+,;=:@[]/", c) >= 0:
		default:
			return false
		}
		if j >= len(path) || path[j] != c {
			return false
		}
		j++
	}
	return j == len(path)
}

// RedactPath returns an escaped URL path (url.URL.EscapedPath) with the
// values of its secret path parameters hidden: in each "/"-separated
// segment, the ";"-separated parts after the first ";" (RFC 3986 §3.3;
// Java servlets send the session as "/app;jsessionid=…") are read as
// RedactQuery reads a query ("a=1&token=…" and an escaped value that
// decodes to a secret parameter included). An escaped ";" ("%3B") is
// data, not a separator (servlet containers split path parameters off
// before decoding), and is kept as is. A path without a secret
// parameter is returned as is, without allocating.
func RedactPath(p string) string {
	if !hasSecretPathParam(p) {
		return p
	}
	return redactPathParams(p)
}

// redactPathParams is RedactPath without its shortcut: every path
// parameter read, whether or not hasSecretPathParam found a secret.
func redactPathParams(p string) string {
	var b strings.Builder
	b.Grow(len(p) + len(RedactedParam))
	for {
		seg, rest, more := strings.Cut(p, "/")
		base, params, hasParams := strings.Cut(seg, ";")
		b.WriteString(base)
		for hasParams {
			var part string
			part, params, hasParams = strings.Cut(params, ";")
			b.WriteByte(';')
			if hasSecretParam(part) {
				b.WriteString(RedactQuery(part))
			} else {
				b.WriteString(part)
			}
		}
		if !more {
			return b.String()
		}
		b.WriteByte('/')
		p = rest
	}
}

// hasSecretPathParam reports whether RedactPath would change the
// escaped path p (or p holds a secret path parameter already showing
// RedactedParam).
func hasSecretPathParam(p string) bool {
	for i := strings.IndexByte(p, ';'); i >= 0; i = strings.IndexByte(p, ';') {
		p = p[i+1:]
		part := p
		if j := strings.IndexAny(p, ";/"); j >= 0 {
			part = p[:j]
		}
		if hasSecretParam(part) {
			return true
		}
	}
	return false
}

// hasSecretParam reports whether RedactQuery would change q (or q
// holds a secret parameter already showing RedactedParam).
func hasSecretParam(q string) bool {
	for q != "" {
		var pair string
		pair, q, _ = strings.Cut(q, "&")
		name, value, hasValue := strings.Cut(pair, "=")
		if hasValue && (pairSecret(pair, false) || escapedSecret(value, maxEscapes)) || escapedSecret(name, maxEscapes) {
			return true
		}
	}
	return false
}

// pairSecret reports whether an "&"-separated pair has a secret
// parameter with a value, as redactPair reads it: its name, or that of
// one of its ";"-separated parts. When shown (pair is decoded text, as
// escapedSecret reads it), a value that is RedactedParam already does
// not count, and a name is read as decodedParamSecret reads it.
func pairSecret(pair string, shown bool) bool {
	name, value, hasValue := strings.Cut(pair, "=")
	if !hasValue {
		return false // no value to hide, here or in a ";" part of it
	}
	secret := paramSecret
	if shown {
		secret = decodedParamSecret
	}
	if secret(name) {
		return !shown || value != RedactedParam
	}
	if !strings.Contains(name, ";") {
		// The first part is name's: decided. The others follow a ";"
		// of value.
		if _, pair, hasValue = strings.Cut(value, ";"); !hasValue {
			return false
		}
	}
	for pair != "" {
		var part string
		part, pair, _ = strings.Cut(pair, ";")
		if name, value, hasValue := strings.Cut(part, "="); hasValue && secret(name) && (!shown || value != RedactedParam) {
			return true
		}
	}
	return false
}

// maxEscapes is how many levels of escaping escapedSecret undoes at
// most: text escaped more deeply that still holds an escape and a "=" is
// taken as secret (hidden, not shown unread). Each level costs one pass
// over the text, so hostile nesting ("%252525…") stays linear.
const maxEscapes = 4

// escapedSecret reports whether a raw value (or a name: the text before
// a pair's "=", or a pair without one), decoded, reads as parameters of
// its own ("1;access_token=…", sent as 1%3Baccess_token%3D…) of which
// redactPair would hide one: a server that splits on ";" or "&" after
// decoding takes it as a parameter. The decoded text's own names and
// values are looked into again the same way, up to depth levels of
// escaping (composiohttp.Parameter prints a parameter's value, decoded
// once, with RedactQuery, which looks into it again). Only text with
// both an escape and a "=" (plain, escaped, or possibly escaped twice:
// "%25") is decoded, so that most
// values cost no allocation; text that decoding leaves as it was holds
// nothing the reading of the level above did not see.
func escapedSecret(v string, depth int) bool {
	i := strings.IndexByte(v, '%')
	if i < 0 || (strings.IndexByte(v, '=') < 0 && !hasEscapedEquals(v[i:])) {
		return false
	}
	d := unescapeLenient(v)
	if d == v {
		return false
	}
	if depth == 0 {
		return true
	}
	for d != "" {
		var pair string
		pair, d, _ = strings.Cut(d, "&")
		name, value, hasValue := strings.Cut(pair, "=")
		if pairSecret(pair, true) || escapedSecret(name, depth-1) || hasValue && escapedSecret(value, depth-1) {
			return true
		}
	}
	return false
}

// hasEscapedEquals reports whether s holds "%3D" in either case, or an
// escaped "%" ("%25"), which once decoded may start one.
func hasEscapedEquals(s string) bool {
	for {
		i := strings.IndexByte(s, '%')
		if i < 0 || i+2 >= len(s) {
			return false
		}
		if s[i+1] == '3' && (s[i+2] == 'D' || s[i+2] == 'd') || s[i+1] == '2' && s[i+2] == '5' {
			return true
		}
		s = s[i+1:]
	}
}

// unescapeLenient decodes a raw query value: "+" is a space, "%XY" the
// byte XY, and a "%" not followed by two hex digits stands for itself.
// url.QueryUnescape rejects such a value outright, but lenient decoders
// (PHP's urldecode, Python's unquote_plus) read "%zz%3Btoken%3Dx" as
// "%zz;token=x", so the redaction must too.
func unescapeLenient(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '+':
			b.WriteByte(' ')
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// decodedParamSecret decides on a name in decoded text (escapedSecret):
// a "%" there is a character, so a name is secret as it reads or as it
// reads decoded once more leniently ("my%5Ftoken"), but not merely for
// not unescaping ("50% off").
func decodedParamSecret(name string) bool {
	return IsSecretParam(name) || strings.ContainsAny(name, "%+") && IsSecretParam(unescapeLenient(name))
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
// after a ";" hides it up to the next ";" or "&"). A value that, once
// decoded, reads as parameters by the same rule of which one is secret
// ("a=1%3Baccess_token%3D…", which a server splitting after decoding
// takes as access_token), or whose decoded names or values do so once
// decoded again (a few levels deep; deeper still, it is hidden unread),
// is replaced whole, up to the next "&". A name, or a pair without "=",
// that decodes so ("access_token%3D…") is the secret's text itself: the
// pair is replaced whole by RedactedParam.
// Everything else, separators and escapes included, is kept as it was.
// Only what is shown changes: the request sent is never rewritten.
func RedactQuery(q string) string {
	var b strings.Builder
	b.Grow(len(q))
	for {
		pair, rest, more := strings.Cut(q, "&")
		redactEscapedPair(&b, pair)
		if !more {
			return b.String()
		}
		b.WriteByte('&')
		q = rest
	}
}

// redactEscapedPair writes one "&"-separated pair of a query as
// redactPair does, and hides its value whole when, as redactPair shows
// it, its decoded text still reads as a secret parameter. A secret that
// redactPair hid already is not looked for again: "a=%zz;token=x"
// shows as "a=%zz;token=[REDACTED]".
func redactEscapedPair(b *strings.Builder, pair string) {
	name, value, hasValue := strings.Cut(pair, "=")
	if escapedSecret(name, maxEscapes) {
		b.WriteString(RedactedParam)
		return
	}
	if !hasValue || !strings.Contains(value, "%") || paramSecret(name) {
		redactPair(b, pair)
		return
	}
	shown := pair
	if pairSecret(pair, false) {
		var pb strings.Builder
		redactPair(&pb, pair)
		shown = pb.String()
	}
	if _, v, _ := strings.Cut(shown, "="); escapedSecret(v, maxEscapes) {
		b.WriteString(name)
		b.WriteString("=" + RedactedParam)
		return
	}
	b.WriteString(shown)
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

// QuerySecrets returns, for Scrub, the texts RedactQuery hides in q (a
// raw query, or a query parameter's value or name read as one): each
// hidden value, or pair hidden whole, as it is in q, then, when it holds
// escapes, as it reads decoded (leniently, as RedactQuery decodes it)
// and the secrets RedactQuery would hide in that decoded text, a few
// levels deep. A server may echo a secret it was sent escaped
// ("a=1%3Bsig%3D…") in its decoded form ("1;sig=…", or the signature
// alone). It uses RedactQuery's own rule: a value RedactQuery shows is
// never returned.
func QuerySecrets(q string) []string { return dedup(appendQuerySecrets(nil, q, maxEscapes)) }

// PathSecrets returns, for Scrub, the texts RedactPath hides in an
// escaped URL path, as QuerySecrets returns them for each of its path
// parameters.
func PathSecrets(p string) []string {
	var out []string
	for i := strings.IndexByte(p, ';'); i >= 0; i = strings.IndexByte(p, ';') {
		p = p[i+1:]
		part := p
		if j := strings.IndexAny(p, ";/"); j >= 0 {
			part = p[:j]
		}
		out = appendQuerySecrets(out, part, maxEscapes)
	}
	return dedup(out)
}

// dedup drops repeated texts, keeping the first of each, in linear time
// (a hostile query may repeat a secret parameter thousands of times).
func dedup(out []string) []string {
	if len(out) < 2 {
		return out
	}
	seen := make(map[string]bool, len(out))
	kept := out[:0]
	for _, s := range out {
		if !seen[s] {
			seen[s] = true
			kept = append(kept, s)
		}
	}
	return kept
}

func appendQuerySecrets(out []string, q string, depth int) []string {
	for q != "" {
		var pair string
		pair, q, _ = strings.Cut(q, "&")
		if !hasSecretParam(pair) {
			continue
		}
		var b strings.Builder
		redactEscapedPair(&b, pair)
		shown := b.String()
		name, value, _ := strings.Cut(pair, "=")
		switch {
		case shown == pair:
		case shown == RedactedParam:
			out = appendHidden(out, pair, depth)
		case shown == name+"="+RedactedParam:
			out = appendHidden(out, value, depth)
		default: // ";" parts hidden for their names; redactPair keeps every ";"
			ss := strings.Split(shown, ";")
			for i, part := range strings.Split(pair, ";") {
				if i < len(ss) && part != ss[i] {
					_, v, _ := strings.Cut(part, "=")
					out = appendHidden(out, v, depth)
				}
			}
		}
	}
	return out
}

// appendHidden appends a hidden text h, and, when decoding changes it,
// its decoded text and the secrets in that.
func appendHidden(out []string, h string, depth int) []string {
	out = append(out, h)
	if d := unescapeLenient(h); d != h && depth > 0 {
		out = append(out, d)
		out = appendQuerySecrets(out, d, depth-1)
	}
	return out
}
