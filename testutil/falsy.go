package testutil

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/composiohttp/composiohttp/internal/jsonscan"
)

// WithStripFalsyJSON makes the fake reproduce a known defect of the real
// proxy (ComposioHQ/composio issue #3324, "/api/v3/tools/execute/proxy
// silently strips falsy/empty body fields"): before a JSON body (the
// envelope's body) is forwarded, every object member whose value is false,
// a zero number (0, -0, 0.0, 0e5), "", {} or [] is removed, at every depth
// of objects, objects inside arrays included. Members are removed bottom
// up, so {"a":{"b":false}} becomes {}. Array elements are never removed,
// and null is kept; the stripped body is re-written compactly (no
// insignificant space), key order kept. binary_body is never touched, which
// is why composiohttp.Transport.JSONAsBinary protects a request from the
// defect: a test can show it with this option and an upstream that checks
// the body byte for byte. The exact rule of the real service (depth, null,
// top-level values) is not documented; this is the reading of the issue's
// title. Default: off, bodies are forwarded byte for byte.
func WithStripFalsyJSON() Option { return func(c *config) { c.stripFalsy = true } }

// stripFalsy returns b, valid JSON, with falsy object members removed as
// WithStripFalsyJSON describes. A value that is not an object or an array
// is returned as is.
func stripFalsy(b []byte) []byte {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || (b[0] != '{' && b[0] != '[') {
		return b
	}
	return appendStripped(make([]byte, 0, len(b)), b)
}

// appendStripped appends v, one valid JSON value, with falsy members of
// its objects removed.
func appendStripped(dst, v []byte) []byte {
	switch v[0] {
	case '{':
		dst = append(dst, '{')
		first := true
		jsonscan.Members(v, 0, func(key []byte, vs, ve int) *jsonscan.Error {
			mark := len(dst)
			if !first {
				dst = append(dst, ',')
			}
			dst = append(dst, key...)
			dst = append(dst, ':')
			start := len(dst)
			dst = appendStripped(dst, v[vs:ve])
			if falsy(dst[start:]) {
				dst = dst[:mark]
				return nil
			}
			first = false
			return nil
		})
		return append(dst, '}')
	case '[':
		var elems []json.RawMessage
		json.Unmarshal(v, &elems) // v is valid JSON
		dst = append(dst, '[')
		for i, e := range elems {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendStripped(dst, bytes.TrimSpace(e))
		}
		return append(dst, ']')
	}
	return append(dst, v...)
}

// falsy reports whether v, a compact JSON value, is false, a zero number,
// "", {} or [].
func falsy(v []byte) bool {
	switch string(v) {
	case "false", `""`, "{}", "[]":
		return true
	}
	if c := v[0]; c == '-' || (c >= '0' && c <= '9') {
		f, err := strconv.ParseFloat(string(v), 64)
		return err == nil && f == 0
	}
	return false
}
