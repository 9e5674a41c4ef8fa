package composiohttp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"

	"github.com/composiohttp/composiohttp/internal/httpurl"

	"github.com/composiohttp/composiohttp/internal/httpheader"
	"github.com/composiohttp/composiohttp/internal/jsonscan"
)

// Limits on what a proxy reply may declare, against hostile or broken
// replies.
const (
	maxResponseHeaders     = 1000
	maxResponseHeaderBytes = 1 << 20 // as http.DefaultMaxHeaderBytes
)

// reply turns the proxy's answer into the upstream's response: a proxy
// error (any status but 200) becomes an *Error, a 200 is read (up to
// MaxResponseSize), decoded and built into the response. It closes
// presp.Body, and records what it learns in info (if not nil).
func (t *Transport) reply(req *http.Request, presp *http.Response, cl *call, c *config, info *CallInfo) (*http.Response, error) {
	defer presp.Body.Close()
	if info != nil {
		info.ProxyStatus = presp.StatusCode
		info.RequestID = presp.Header.Get("X-Request-Id")
	}
	if presp.StatusCode != http.StatusOK {
		raw, rerr := io.ReadAll(io.LimitReader(presp.Body, maxErrorBody))
		if rerr != nil {
			if cerr := req.Context().Err(); cerr != nil {
				// The caller gave up while the reply was read: that is
				// the outcome, not the proxy error half of a body
				// suggests, and it is not worth retrying.
				return nil, fmt.Errorf("composiohttp: reading the proxy's %d reply: %w", presp.StatusCode, cerr)
			}
		}
		perr := parseProxyError(presp.StatusCode, presp.Header, raw, time.Now())
		scrubEchoes(perr, c, cl.conn)
		if info != nil {
			info.RequestID = perr.RequestID
		}
		return nil, perr
	}
	// The reply is read into a pooled buffer, which the response's body
	// hands back when closed (memBody), or which goes back here when
	// nothing returned refers to it.
	pooled := getReplyBuf()
	raw, err := appendBody((*pooled)[:0], presp.Body, presp.ContentLength, c.maxResp)
	if cap(raw) > 0 {
		*pooled = raw
	}
	switch {
	case errors.Is(err, ErrBodyTooLarge):
		putReplyBuf(pooled)
		return nil, envErr(-1, "reply larger than MaxResponseSize")
	case errors.Is(err, errBodyLength):
		putReplyBuf(pooled)
		return nil, envErr(-1, "reply longer than its Content-Length")
	case err != nil: // the connection broke off: no complete reply
		putReplyBuf(pooled)
		return nil, proxyUnreachable(req.Context(), c, err)
	}
	// The response, its body and its headers' storage: one allocation.
	rb := new(responseWithBody)
	env, err := decodeEnvelope(raw, &rb.headers)
	if err != nil {
		putReplyBuf(pooled)
		return nil, err
	}
	if info != nil {
		info.UpstreamStatus = env.status
	}
	if env.binary != nil && cl.method != http.MethodHead {
		if err := t.checkDownload(c, env.binary.URL); err != nil {
			putReplyBuf(pooled)
			return nil, err
		}
	}
	resp := response(req, cl, &env, c.base, rb)
	if resp.Body == &rb.body && aliases(raw, env.data) {
		rb.body.buf = pooled
	} else {
		putReplyBuf(pooled)
	}
	return resp, nil
}

// aliases reports whether data lies within buf.
func aliases(buf, data []byte) bool {
	if len(data) == 0 || cap(buf) == 0 {
		return false
	}
	b0 := uintptr(unsafe.Pointer(unsafe.SliceData(buf[:cap(buf)])))
	d0 := uintptr(unsafe.Pointer(unsafe.SliceData(data)))
	return d0 >= b0 && d0 < b0+uintptr(cap(buf))
}

// response builds the upstream's response from a decoded envelope, in rb.
func response(req *http.Request, cl *call, env *envelope, base http.RoundTripper, rb *responseWithBody) *http.Response {
	resp := &rb.resp
	if cl.method != http.MethodHead && env.binary == nil && len(env.data) > 0 {
		rb.body.reset(env.data, nil)
		resp.Body = &rb.body
		resp.ContentLength = int64(len(env.data))
	} else {
		resp.Body = http.NoBody
	}
	resp.Status = statusLine(env.status)
	resp.StatusCode = env.status
	resp.Proto, resp.ProtoMajor, resp.ProtoMinor = "HTTP/1.1", 1, 1
	resp.Header = env.header
	resp.Request = req
	switch {
	case cl.method == http.MethodHead:
		resp.ContentLength = env.contentLength
	case env.binary != nil:
		resp.Body = &binaryBody{ctx: req.Context(), base: base, url: env.binary.URL, size: env.binary.Size}
		resp.ContentLength = env.binary.Size
	}
	return resp
}

type responseWithBody struct {
	resp    http.Response
	body    memBody
	headers headerStore
}

// headerStore is room for a small set of response headers (most
// replies'), kept with the response so that they cost no allocation of
// their own; larger sets are allocated apart.
type headerStore struct {
	vals  [8]string
	arena [256]byte
}

// statusLines holds "200 OK" and the like for every status net/http names,
// so that a response's Status costs no allocation.
var statusLines = func() (s [600]string) {
	for code := range s {
		if text := http.StatusText(code); text != "" {
			s[code] = strconv.Itoa(code) + " " + text
		}
	}
	return s
}()

func statusLine(code int) string {
	if code >= 0 && code < len(statusLines) && statusLines[code] != "" {
		return statusLines[code]
	}
	return strconv.Itoa(code) + " " + http.StatusText(code)
}

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
func decodeEnvelope(b []byte, st *headerStore) (envelope, error) {
	env := envelope{contentLength: -1}
	hasStatus := false
	hs, he, ds, de, bs, be := -1, -1, -1, -1, -1, -1
	end, serr := jsonscan.Members(b, jsonscan.SkipSpace(b, 0), func(key []byte, vs, ve int) *jsonscan.Error {
		switch string(key) {
		case `"status"`:
			n, ok := parseStatus(b[vs:ve])
			if !ok {
				return &jsonscan.Error{Off: vs, Msg: "status is not an HTTP status code"}
			}
			env.status, hasStatus = n, true
		case `"headers"`:
			switch b[vs] {
			case '{':
				hs, he = vs, ve
			case 'n':
				hs = -1
			default:
				return &jsonscan.Error{Off: vs, Msg: "headers is not an object"}
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
				return &jsonscan.Error{Off: vs, Msg: "binary_data is not an object"}
			}
		}
		return nil
	})
	if serr != nil {
		return envelope{}, envErr(serr.Off, serr.Msg)
	}
	if jsonscan.SkipSpace(b, end) != len(b) {
		return envelope{}, envErr(end, "data after the envelope")
	}
	if !hasStatus {
		return envelope{}, envErr(-1, "no status")
	}
	ctype := ""
	if hs >= 0 {
		var err error
		if env.header, ctype, env.contentLength, err = decodeHeaders(b[:he], hs, st); err != nil {
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
		case b[ds] == '"' && !httpheader.IsJSON(ctype):
			env.data = unquote(b[ds:de])
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
func unquote(b []byte) []byte {
	inner := b[1 : len(b)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return inner
	}
	return appendUnquoted(make([]byte, 0, len(inner)), b)
}

// appendUnquoted appends the text of a valid JSON string token (as checked
// by jsonscan.String) to dst. Like encoding/json, a lone UTF-16 surrogate
// becomes U+FFFD.
func appendUnquoted(dst, tok []byte) []byte {
	s := tok[1 : len(tok)-1]
	for {
		i := bytes.IndexByte(s, '\\')
		if i < 0 {
			return append(dst, s...)
		}
		dst = append(dst, s[:i]...)
		c := s[i+1]
		s = s[i+2:]
		switch c {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := hex4(s)
			s = s[4:]
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if len(s) >= 6 && s[0] == '\\' && s[1] == 'u' {
					r2 = hex4(s[2:])
				}
				if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
					r, s = d, s[6:]
				} else {
					r = utf8.RuneError
				}
			}
			dst = utf8.AppendRune(dst, r)
		default: // '"', '\\', '/'
			dst = append(dst, c)
		}
	}
}

// hex4 decodes four hex digits (already validated).
func hex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		default:
			c -= 'A' - 10
		}
		r = r<<4 | rune(c)
	}
	return r
}

// decodeHeaders turns the headers object b[hs:], valid JSON (decodeEnvelope
// scanned it), into an http.Header with canonical keys. It drops
// Content-Length, Content-Encoding and Transfer-Encoding, which described
// the upstream's wire body and not the one returned (the upstream's
// Content-Length is returned apart, for HEAD), the hop-by-hop headers and
// those named in Connection (as httputil.ReverseProxy does), and any name
// or value that is not valid in HTTP. All keys and values share one
// string allocation.
func decodeHeaders(b []byte, hs int, st *headerStore) (h http.Header, ctype string, clen int64, err error) {
	clen = -1
	// Canonical keys and unescaped values go into one buffer, then one
	// string, in one walk over the object: its tokens are known valid, so
	// only the types of the values are checked. Unescaping never lengthens
	// a token, and the tokens are bounded by maxResponseHeaderBytes, so
	// the buffer is never reallocated.
	type span struct{ ks, ke, ve int }
	var spansArr [24]span
	spans := spansArr[:0]
	var arena []byte
	if st != nil && len(b)-hs <= len(st.arena) {
		arena = st.arena[:0]
	} else {
		arena = make([]byte, 0, min(len(b)-hs, maxResponseHeaderBytes))
	}
	count, size := 0, 0
	i := jsonscan.SkipSpace(b, hs+1)
	for i < len(b) && b[i] == '"' {
		ks := i
		ke, _ := jsonscan.String(b, ks)
		vs := jsonscan.SkipSpace(b, jsonscan.SkipSpace(b, ke)+1) // past ':'
		var ve int
		switch b[vs] {
		case 'n':
			ve = vs + len("null")
		case '"':
			ve, _ = jsonscan.String(b, vs)
			count++
			size += ke - ks + ve - vs
			if count > maxResponseHeaders || size > maxResponseHeaderBytes {
				return nil, "", -1, envErr(vs, "too many response headers")
			}
			start := len(arena)
			arena = appendUnquoted(arena, b[ks:ke])
			kend := len(arena)
			arena = appendUnquoted(arena, b[vs:ve])
			if !httpheader.ValidName(arena[start:kend]) || !httpheader.ValidValue(arena[kend:]) {
				arena = arena[:start] // not expressible in HTTP: dropped
				break
			}
			canonicalize(arena[start:kend])
			spans = append(spans, span{start, kend, len(arena)})
		default:
			return nil, "", -1, envErr(vs, "header value is not a string")
		}
		i = jsonscan.SkipSpace(b, ve)
		if i < len(b) && b[i] == ',' {
			i = jsonscan.SkipSpace(b, i+1)
		}
	}
	// arena is not written after this point: the header strings alias it
	// instead of copying it.
	text := unsafe.String(unsafe.SliceData(arena), len(arena))
	var connection []string
	h = make(http.Header, len(spans))
	var vals []string
	if st != nil && len(spans) <= len(st.vals) {
		vals = st.vals[:len(spans)]
	} else {
		vals = make([]string, len(spans))
	}
	for i, sp := range spans {
		key, val := text[sp.ks:sp.ke], text[sp.ke:sp.ve]
		switch key {
		case "Content-Length":
			if v, ok := parseContentLength(val); ok {
				clen = v
			}
			continue
		case "Content-Encoding":
			continue
		case "Connection":
			connection = append(connection, val)
			continue
		case "Content-Type":
			ctype = val
		}
		if httpheader.HopByHop(key) {
			continue
		}
		if old, ok := h[key]; ok {
			h[key] = append(old, val)
			continue
		}
		vals[i] = val
		h[key] = vals[i : i+1 : i+1]
	}
	// Headers the upstream named in Connection were for its hop only.
	for _, v := range connection {
		for f := range strings.SplitSeq(v, ",") {
			delete(h, http.CanonicalHeaderKey(strings.TrimSpace(f)))
		}
	}
	if _, ok := h["Content-Type"]; !ok {
		ctype = ""
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

// canonicalize rewrites a valid header name in place into the form
// http.CanonicalHeaderKey gives it.
func canonicalize(k []byte) {
	upper := true
	for i, c := range k {
		switch {
		case upper && c >= 'a' && c <= 'z':
			k[i] = c - ('a' - 'A')
		case !upper && c >= 'A' && c <= 'Z':
			k[i] = c + ('a' - 'A')
		}
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
	if _, ok := httpurl.Parse(raw.URL); !ok {
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
