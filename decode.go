package composiohttp

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
)

// Limits on what a proxy reply may declare, against hostile or broken
// replies.
const (
	maxResponseHeaders     = 1000
	maxResponseHeaderBytes = 1 << 20 // as http.DefaultMaxHeaderBytes
)

// envelope is a decoded proxy 200 reply.
type envelope struct {
	status        int
	header        http.Header
	contentLength int64 // the upstream's Content-Length header, or -1
	data          []byte
	binary        *BinaryData
}

func envErr(off int, reason string) error {
	return &EnvelopeError{Reason: reason, Offset: int64(off)}
}

// decodeEnvelope decodes a proxy 200 reply (a ProxyResponse). It validates
// the whole reply as strict JSON; data aliases b where it can.
func decodeEnvelope(b []byte) (envelope, error) {
	env := envelope{contentLength: -1}
	hasStatus := false
	hs, ds, de, bs, be := -1, -1, -1, -1, -1
	end, serr := objectMembers(b, skipSpace(b, 0), 0, func(key []byte, vs, ve int) *scanError {
		switch string(key) {
		case `"status"`:
			n, ok := parseStatus(b[vs:ve])
			if !ok {
				return &scanError{vs, "status is not an HTTP status code"}
			}
			env.status, hasStatus = n, true
		case `"headers"`:
			switch b[vs] {
			case '{':
				hs = vs
			case 'n':
				hs = -1
			default:
				return &scanError{vs, "headers is not an object"}
			}
		case `"data"`:
			ds, de = vs, ve
		case `"binary_data"`:
			switch b[vs] {
			case '{':
				bs, be = vs, ve
			case 'n':
				bs = -1
			default:
				return &scanError{vs, "binary_data is not an object"}
			}
		}
		return nil
	})
	if serr != nil {
		return envelope{}, envErr(serr.off, serr.msg)
	}
	if skipSpace(b, end) != len(b) {
		return envelope{}, envErr(end, "data after the envelope")
	}
	if !hasStatus {
		return envelope{}, envErr(-1, "no status")
	}
	ctype := ""
	if hs >= 0 {
		var err error
		if env.header, ctype, env.contentLength, err = decodeHeaders(b, hs); err != nil {
			return envelope{}, err
		}
	} else {
		env.header = make(http.Header)
	}
	if bs >= 0 {
		bd, err := decodeBinaryData(b[bs:be], bs)
		if err != nil {
			return envelope{}, err
		}
		env.binary = bd
		if ctype == "" && bd.ContentType != "" {
			env.header["Content-Type"] = []string{bd.ContentType}
		}
		return env, nil
	}
	if ds >= 0 {
		switch {
		case b[ds] == 'n':
			// null: empty body
		case b[ds] == '"' && !isJSONType(ctype):
			text, err := unquote(b[ds:de])
			if err != nil {
				return envelope{}, envErr(ds, "data is not a valid string")
			}
			env.data = text
		default:
			env.data = b[ds:de]
		}
	}
	return env, nil
}

// parseStatus accepts a plain three-digit integer from 100 to 999.
func parseStatus(b []byte) (int, bool) {
	if len(b) != 3 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, n >= 100
}

// unquote decodes a valid JSON string token. Without escapes it aliases b.
func unquote(b []byte) ([]byte, error) {
	inner := b[1 : len(b)-1]
	if !hasByte(inner, '\\') {
		return inner, nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, err
	}
	return []byte(s), nil
}

func hasByte(b []byte, c byte) bool {
	for _, x := range b {
		if x == c {
			return true
		}
	}
	return false
}

// decodeHeaders turns the headers object at b[hs] into an http.Header with
// canonical keys. It drops Content-Length, Content-Encoding and
// Transfer-Encoding, which described the upstream's wire body and not the
// one returned (the upstream's Content-Length is returned apart, for HEAD),
// and any name or value that is not valid in HTTP. All keys and values
// share one string allocation.
func decodeHeaders(b []byte, hs int) (h http.Header, ctype string, clen int64, err error) {
	clen = -1
	// Pass 1: check types and limits, and size the buffer.
	n, size := 0, 0
	_, serr := objectMembers(b, hs, 0, func(key []byte, vs, ve int) *scanError {
		if b[vs] == 'n' {
			return nil
		}
		if b[vs] != '"' {
			return &scanError{vs, "header value is not a string"}
		}
		n++
		size += len(key) + (ve - vs)
		if n > maxResponseHeaders || size > maxResponseHeaderBytes {
			return &scanError{vs, "too many response headers"}
		}
		return nil
	})
	if serr != nil {
		return nil, "", -1, envErr(serr.off, serr.msg)
	}
	// Pass 2: write canonical keys and unescaped values into one buffer.
	// Unescaping never lengthens a string, so size bounds the total and
	// the builder never reallocates: substrings of its final String stay
	// valid.
	var sb strings.Builder
	sb.Grow(size)
	type span struct{ ks, ke, vs, ve int }
	var spansArr [24]span
	spans := spansArr[:0]
	objectMembers(b, hs, 0, func(key []byte, vs, ve int) *scanError {
		if b[vs] == 'n' {
			return nil
		}
		k, err1 := unquote(key)
		v, err2 := unquote(b[vs:ve])
		if err1 != nil || err2 != nil || !validHeaderName(k) || !validHeaderValue(v) {
			return nil // not expressible in HTTP: dropped
		}
		var sp span
		sp.ks = sb.Len()
		writeCanonical(&sb, k)
		sp.ke = sb.Len()
		sb.Write(v)
		sp.vs, sp.ve = sp.ke, sb.Len()
		spans = append(spans, sp)
		return nil
	})
	s := sb.String()
	h = make(http.Header, len(spans))
	vals := make([]string, len(spans))
	for i, sp := range spans {
		key, val := s[sp.ks:sp.ke], s[sp.vs:sp.ve]
		switch key {
		case "Content-Length":
			if v, ok := parseContentLength(val); ok {
				clen = v
			}
			continue
		case "Content-Encoding", "Transfer-Encoding":
			continue
		case "Content-Type":
			ctype = val
		}
		if old, ok := h[key]; ok {
			h[key] = append(old, val)
			continue
		}
		vals[i] = val
		h[key] = vals[i : i+1 : i+1]
	}
	return h, ctype, clen, nil
}

func parseContentLength(s string) (int64, bool) {
	if s == "" || len(s) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int64(s[i]-'0')
	}
	return n, true
}

// isTokenChar reports whether c may appear in an HTTP field name (RFC 9110
// token).
func isTokenChar(c byte) bool {
	if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

func validHeaderName(k []byte) bool {
	if len(k) == 0 {
		return false
	}
	for _, c := range k {
		if !isTokenChar(c) {
			return false
		}
	}
	return true
}

// validHeaderValue rejects control characters other than tab, which would
// let a reply smuggle header lines.
func validHeaderValue(v []byte) bool {
	for _, c := range v {
		if (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// writeCanonical writes the canonical form of a valid header name, as
// http.CanonicalHeaderKey does, without allocating.
func writeCanonical(sb *strings.Builder, k []byte) {
	upper := true
	for _, c := range k {
		switch {
		case upper && c >= 'a' && c <= 'z':
			c -= 'a' - 'A'
		case !upper && c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		}
		sb.WriteByte(c)
		upper = c == '-'
	}
}

// decodeBinaryData decodes and checks a binary_data object at offset off.
func decodeBinaryData(b []byte, off int) (*BinaryData, error) {
	var raw struct {
		URL         string `json:"url"`
		ContentType string `json:"content_type"`
		Size        *int64 `json:"size"`
		ExpiresAt   string `json:"expires_at"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, envErr(off, "binary_data has a field of the wrong type")
	}
	u, err := url.Parse(raw.URL)
	if raw.URL == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, envErr(off, "binary_data.url is not an http(s) URL")
	}
	size := int64(-1)
	if raw.Size != nil {
		if *raw.Size < 0 {
			return nil, envErr(off, "binary_data.size is negative")
		}
		size = *raw.Size
	}
	return &BinaryData{URL: raw.URL, ContentType: raw.ContentType, Size: size, ExpiresAt: raw.ExpiresAt}, nil
}
