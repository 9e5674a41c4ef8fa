// Package httpheader holds the one definition of a valid HTTP header field
// name and value (RFC 9110), and of a JSON media type, shared by both
// directions of the root package (request parameters, reply headers,
// COMPOSIO_CUSTOM_HEADERS) and by the fake proxy in testutil, so that the
// client and its fake can never disagree on what is valid.
//
// The functions take a string or a []byte, so that the reply decoder can
// check bytes in place without converting them to a string first.
package httpheader

import (
	"net/textproto"
	"strings"
)

// tokenChar marks the bytes allowed in an HTTP field name (RFC 9110
// section 5.6.2, token).
var tokenChar = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c < 128 && strings.IndexByte("!#$%&'*+-.^_`|~", byte(c)) >= 0
	}
	return t
}()

// ValidName reports whether k is a valid header field name: a non-empty
// RFC 9110 token.
func ValidName[T string | []byte](k T) bool {
	if len(k) == 0 {
		return false
	}
	for i := 0; i < len(k); i++ {
		if !tokenChar[k[i]] {
			return false
		}
	}
	return true
}

// ValidValue reports whether v is a valid header field value: no control
// characters other than tab (CR or LF would let a value smuggle header
// lines). Bytes from 0x80 up are allowed (obs-text).
func ValidValue[T string | []byte](v T) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// IsJSON reports whether a Content-Type value names JSON: application/json
// or any type/subtype+json, with or without parameters, in any case.
// testutil's check of the proxy envelope's own Content-Type is stricter
// on purpose (application/json only: the endpoint's media type, not a body's).
func IsJSON(ct string) bool {
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	ct = strings.TrimSpace(ct)
	if strings.EqualFold(ct, "application/json") {
		return true
	}
	return len(ct) > 5 && strings.EqualFold(ct[len(ct)-5:], "+json") && strings.IndexByte(ct, '/') > 0
}

// HopByHop reports whether the canonical header name is hop-by-hop: it
// describes one connection, not the message, so a proxy drops it in both
// directions. The list is httputil.ReverseProxy's (RFC 9110 section 7.6.1
// and the de facto Proxy-Connection and Keep-Alive). Headers named in
// Connection are hop-by-hop too: see ConnectionListed.
func HopByHop(name string) bool {
	switch name {
	case "Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
		"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade":
		return true
	}
	return false
}

// ConnectionListed reports whether the canonical header name appears in
// the comma-separated lists of a message's Connection header values.
func ConnectionListed(connection []string, name string) bool {
	for _, v := range connection {
		for f := range strings.SplitSeq(v, ",") {
			if f = strings.TrimSpace(f); f != "" && textproto.CanonicalMIMEHeaderKey(f) == name {
				return true
			}
		}
	}
	return false
}
