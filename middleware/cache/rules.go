package cache

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
)

// The storage and reuse rules of RFC 9111 (and RFC 5861's stale-if-error)
// that httpcache does not apply, or applies only to lower-case directives
// on the first Cache-Control field line. The package documentation lists
// every rule and its test.

// cacheControl is what the wrapper reads of a message's Cache-Control
// field lines, all of them, directive names in any case (RFC 9111 §5.2).
type cacheControl struct {
	noStore bool
	noCache bool // with or without field names
	// mustRevalidate: must-revalidate or proxy-revalidate, which forbid
	// serving the response stale (RFC 9111 §5.2.2.2, §5.2.2.8).
	mustRevalidate bool
	maxStale       bool // a request's max-stale, with or without seconds
	// onlyIfCached: a request's only-if-cached (RFC 9111 §5.2.1.7).
	onlyIfCached bool
	// staleIfError is stale-if-error's delta-seconds, or -1 when the
	// directive is absent, bare or not delta-seconds (RFC 5861 §4 requires
	// them; a bare stale-if-error is ignored).
	staleIfError int64
}

// parseCacheControl reads the Cache-Control field lines values.
func parseCacheControl(values []string) cacheControl {
	cc := cacheControl{staleIfError: -1}
	for _, v := range values {
		readDirectives(v, &cc)
	}
	return cc
}

// readDirectives adds the directives of one field value v to cc.
func readDirectives[S ~string | ~[]byte](v S, cc *cacheControl) {
	for len(v) > 0 {
		var elem S
		elem, v = nextElement(v)
		name, value, hasValue := splitDirective(elem)
		switch {
		case isToken(name, "no-store"):
			cc.noStore = true
		case isToken(name, "no-cache"):
			cc.noCache = true
		case isToken(name, "must-revalidate"), isToken(name, "proxy-revalidate"):
			cc.mustRevalidate = true
		case isToken(name, "max-stale"):
			cc.maxStale = true
		case isToken(name, "only-if-cached"):
			cc.onlyIfCached = true
		case isToken(name, "stale-if-error"):
			if n, ok := deltaSeconds(value); hasValue && ok {
				cc.staleIfError = max(cc.staleIfError, n)
			}
		}
	}
}

// maxDeltaSeconds is the largest delta-seconds kept; a larger value means
// it (RFC 9111 §1.2.2).
const maxDeltaSeconds = 1 << 31

// deltaSeconds parses 1*DIGIT.
func deltaSeconds[S ~string | ~[]byte](v S) (int64, bool) {
	if len(v) == 0 {
		return 0, false
	}
	var n int64
	for i := range len(v) {
		c := v[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = min(n*10+int64(c-'0'), maxDeltaSeconds)
	}
	return n, true
}

// nextElement returns the first element of the comma-separated list v
// (commas inside quoted strings do not separate) and the rest after its
// comma.
func nextElement[S ~string | ~[]byte](v S) (elem, rest S) {
	quoted := false
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case c == ',' && !quoted:
			return v[:i], v[i+1:]
		}
	}
	return v, v[len(v):]
}

// unterminated reports whether a quoted string in elem is not closed.
func unterminated(elem string) bool {
	quoted := false
	for i := 0; i < len(elem); i++ {
		switch c := elem[i]; {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		}
	}
	return quoted
}

// splitDirective splits a list element into its name and value, both
// trimmed of whitespace.
func splitDirective[S ~string | ~[]byte](elem S) (name, value S, hasValue bool) {
	for i := 0; i < len(elem); i++ {
		if elem[i] == '=' {
			return trimOWS(elem[:i]), trimOWS(elem[i+1:]), true
		}
	}
	return trimOWS(elem), elem[:0], false
}

// trimOWS trims spaces and tabs (RFC 9110's OWS) from both ends of v.
func trimOWS[S ~string | ~[]byte](v S) S {
	for len(v) > 0 && (v[0] == ' ' || v[0] == '\t') {
		v = v[1:]
	}
	for len(v) > 0 && (v[len(v)-1] == ' ' || v[len(v)-1] == '\t') {
		v = v[:len(v)-1]
	}
	return v
}

// isToken reports whether v is the lower-case token lower, in any case.
func isToken[S ~string | ~[]byte](v S, lower string) bool {
	if len(v) != len(lower) {
		return false
	}
	for i := range len(v) {
		c := v[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// hasStar reports whether one of the Vary field values holds the member
// "*", which no later request matches (RFC 9111 §4.1).
func hasStar[S ~string | ~[]byte](v S) bool {
	for len(v) > 0 {
		var elem S
		elem, v = nextElement(v)
		if e := trimOWS(elem); len(e) == 1 && e[0] == '*' {
			return true
		}
	}
	return false
}

// storable reports whether a response to a GET or HEAD request without
// Range may be stored (requests with Range, a body or an unsafe method
// never reach httpcache): no no-store in the request or the response
// (noStore), no Vary: *, not a 206, which is part of a response, never
// the whole answer (RFC 9111 §3, §3.3), and not a 5xx, whatever freshness
// it carries: a server's failure is never the URL's entry (nor does it
// replace one: see view.keep), and without Set-Cookie, whose value is
// often a session (a credential) that must never reach a store, nor be
// handed to a later call (nginx's proxy cache does not store such
// responses either). noStore is false when httpcache, which
// reads the normalized Cache-Control of both, will not store the
// response anyway.
func storable(req cacheControl, status int, h http.Header) (ok, noStore bool) {
	if req.noStore || parseCacheControl(h.Values("Cache-Control")).noStore {
		return false, true
	}
	if status == http.StatusPartialContent || status >= 500 || len(h.Values("Set-Cookie")) > 0 {
		return false, false
	}
	for _, v := range h.Values("Vary") {
		if hasStar(v) {
			return false, false
		}
	}
	return true, false
}

// conditional reports whether a request carries validators of its own.
// Its answer, often a 304 Not Modified, is the caller's: httpcache would
// store that 304 as the URL's entry (and serve it to later unconditional
// requests), or replace it with a stored response of another variant, so
// such requests pass the cache by.
func conditional(h http.Header) bool {
	for _, k := range [...]string{"If-None-Match", "If-Modified-Since", "If-Match", "If-Unmodified-Since", "If-Range"} {
		if len(h[k]) > 0 {
			return true
		}
	}
	return false
}

// reusable applies the storage rules again to a stored entry, httpcache's
// serialized response, before httpcache may answer with it: an entry
// breaking one (written by another program sharing the store, or by an
// older version) is never served. mustRevalidate reports whether the
// entry has must-revalidate or proxy-revalidate. It reads only the status
// line (a 206 or a 5xx is never served) and the Cache-Control, Vary and
// Set-Cookie lines, and allocates nothing.
func reusable(entry []byte) (ok, mustRevalidate bool) {
	line, rest, found := bytes.Cut(entry, []byte("\n"))
	if !found {
		return false, false
	}
	// "HTTP/1.1 206 Partial Content"
	if _, status, found := bytes.Cut(line, []byte(" ")); !found || bytes.HasPrefix(status, []byte("206")) ||
		len(status) > 0 && status[0] == '5' {
		return false, false
	}
	cc := cacheControl{staleIfError: -1}
	for len(rest) > 0 {
		line, rest, _ = bytes.Cut(rest, []byte("\n"))
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) == 0 {
			break // end of the header
		}
		name, value, _ := bytes.Cut(line, []byte(":"))
		switch {
		case isToken(name, "cache-control"):
			readDirectives(value, &cc)
		case isToken(name, "vary"):
			if hasStar(value) {
				return false, false
			}
		case isToken(name, "set-cookie"):
			return false, false
		}
	}
	return !cc.noStore, cc.mustRevalidate
}

// normalCacheControl returns the one Cache-Control field value httpcache
// should read for the field lines values: all lines joined, directive
// names in lower case, whitespace trimmed (httpcache reads only the first
// line and matches names case-sensitively), without the directive drop
// (lower case; "" drops none). changed is false, and nothing is
// allocated, when values is one line already in that form.
func normalCacheControl(values []string, drop string) (v string, changed bool) {
	if len(values) == 0 {
		return "", false
	}
	var buf [128]byte
	b := buf[:0]
	for _, line := range values {
		for len(line) > 0 {
			var elem string
			elem, line = nextElement(line)
			name, value, hasValue := splitDirective(elem)
			if name == "" || drop != "" && isToken(name, drop) || unterminated(elem) {
				continue // an unterminated quoted string would swallow what follows
			}
			if len(b) > 0 {
				b = append(b, ", "...)
			}
			for i := range len(name) {
				c := name[i]
				if 'A' <= c && c <= 'Z' {
					c += 'a' - 'A'
				}
				b = append(b, c)
			}
			if hasValue {
				b = append(b, '=')
				b = append(b, value...)
			}
		}
	}
	if len(values) == 1 && string(b) == values[0] {
		return values[0], false
	}
	return string(b), true
}

// rfc5861Error reports whether status is one of the errors stale-if-error
// covers: "500, 502, 503, or 504" (RFC 5861 §4).
func rfc5861Error(status int) bool {
	switch status {
	case http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// errorAllowsStale reports whether a failure of next may be answered with
// a stale entry: a proxy error with an RFC 5861 status (500, 502, 503,
// 504), or no reply at all (composiohttp.CodeUnreachable: the proxy, or
// in direct mode the upstream, could not be reached or the connection
// broke). Every other proxy error (an account that is not active, a bad
// API key, a rate limit: any 4xx, and 501) and the caller's own
// cancellation or deadline are answered with the error.
func errorAllowsStale(err error) bool {
	if perr, ok := errors.AsType[*composiohttp.Error](err); ok {
		return rfc5861Error(perr.StatusCode)
	}
	return composiohttp.CodeOf(err) == composiohttp.CodeUnreachable
}

// withinStaleWindow reports whether the stored response with header h
// may still answer an error at now: it has neither must-revalidate,
// proxy-revalidate nor no-cache, and its age (from its Date) is under N
// seconds, N being the request's stale-if-error=N, else the response's.
func withinStaleWindow(h http.Header, req cacheControl, now time.Time) bool {
	resp := parseCacheControl(h.Values("Cache-Control"))
	if resp.mustRevalidate || resp.noCache {
		return false // never served stale (RFC 9111 §4.2.4)
	}
	n := req.staleIfError
	if n < 0 {
		n = resp.staleIfError
	}
	if n < 0 {
		return false
	}
	date, err := http.ParseTime(h.Get("Date"))
	return err == nil && now.Sub(date) < time.Duration(n)*time.Second
}

// variedPrefix starts the names of the headers in which httpcache keeps,
// in a stored response, the request's values of the headers its Vary
// names. They stay in the store and never reach a caller.
const variedPrefix = "X-Varied-"

// hasVaried reports whether h holds a header named variedPrefix...
func hasVaried(h http.Header) bool {
	for k := range h {
		if strings.HasPrefix(k, variedPrefix) {
			return true
		}
	}
	return false
}

// withoutVaried returns a copy of h without its X-Varied-* headers.
func withoutVaried(h http.Header) http.Header {
	c := make(http.Header, len(h))
	for k, v := range h {
		if !strings.HasPrefix(k, variedPrefix) {
			c[k] = v
		}
	}
	return c
}

// deleteVaried removes h's X-Varied-* headers.
func deleteVaried(h http.Header) {
	for k := range h {
		if strings.HasPrefix(k, variedPrefix) {
			delete(h, k)
		}
	}
}

// credentialHeader reports whether name is a request header whose values
// httpcache never sees, and so never stores as X-Varied-<name> for a
// response that varies on them: it sees their digests (credentialDigest).
// These are the headers logging redacts (credentials.IsSecret: a name
// containing auth, token, key, secret, cookie, session, ..., such as
// Authorization, Proxy-Authorization, Cookie, X-Api-Key,
// X-Shopify-Access-Token or Private-Token). Authorization's values are
// digested only with WithAuthorizedRequests (without, a request carrying
// it passes the cache by).
func credentialHeader(name string) bool { return credentials.IsSecret(name) }

// hasCredentialHeader reports whether h has a credential header other
// than Authorization (which prepare digests only when it is part of the
// key).
func hasCredentialHeader(h http.Header) bool {
	for name, vs := range h {
		if len(vs) > 0 && name != "Authorization" && credentialHeader(name) {
			return true
		}
	}
	return false
}

// credentialDigest is what httpcache sees in place of the values of the
// request header name: a SHA-256 of them salted with the tenant and the
// header's name, prefixed. Equal values of one tenant give equal digests
// on every replica, so Vary still matches per caller. The store key is
// already a SHA-256 over the tenant, the Authorization value (when it is
// part of the key) and the URL; the digest reveals nothing more about an
// Authorization value than the key does.
func credentialDigest(identity, name string, values []string) string {
	var buf [256]byte
	b := buf[:0]
	for _, part := range [...]string{"composiohttp/cache/credential/v1", identity, name} {
		b = binary.BigEndian.AppendUint64(b, uint64(len(part)))
		b = append(b, part...)
	}
	for _, v := range values {
		b = binary.BigEndian.AppendUint64(b, uint64(len(v)))
		b = append(b, v...)
	}
	sum := sha256.Sum256(b)
	const prefix = "sha256:"
	var out [len(prefix) + 2*sha256.Size]byte
	copy(out[:], prefix)
	hex.Encode(out[len(prefix):], sum[:])
	return string(out[:])
}
