package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/composiohttp/composiohttp"
)

// obs is what one side showed in one scenario: named fields, in the order
// they were observed.
type obs struct {
	keys   []string
	vals   map[string]string
	absent string // the endpoint under test does not exist on this side
}

func newObs() *obs { return &obs{vals: make(map[string]string)} }

func (o *obs) set(k, v string) {
	if _, ok := o.vals[k]; !ok {
		o.keys = append(o.keys, k)
	}
	o.vals[k] = v
}

// exchange is one HTTP exchange as it came off the wire.
type exchange struct {
	method, path string
	status       int
	header       http.Header
	body         []byte
}

// capture records the exchanges of a Transport with the proxy and the
// signed download URLs, passing them on unchanged.
type capture struct {
	next http.RoundTripper

	mu        sync.Mutex
	exchanges []exchange
}

const maxCapture = 16 << 20

func (c *capture) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxCapture))
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.exchanges = append(c.exchanges, exchange{req.Method, req.URL.Path, resp.StatusCode, resp.Header.Clone(), body})
	c.mu.Unlock()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	return resp, nil
}

func (c *capture) all() []exchange {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.exchanges)
}

// isProxyCall reports whether path is a proxy endpoint (the tools proxy
// or a session's proxy_execute).
func isProxyCall(path string) bool {
	return strings.HasSuffix(path, "/tools/execute/proxy") || strings.HasSuffix(path, "/proxy_execute")
}

// isAPIPath reports whether path is on Composio's API (not a download).
func isAPIPath(path string) bool { return strings.HasPrefix(path, "/api/") }

// skippedHeaders are upstream or proxy headers that differ on every call
// or describe the transfer, not the behaviour: never compared.
var skippedHeaders = map[string]bool{
	"date": true, "age": true, "server": true, "via": true, "connection": true, "keep-alive": true,
	"content-length": true, "transfer-encoding": true, "content-encoding": true,
	"x-request-id": true, "alt-svc": true, "nel": true, "report-to": true, "etag": true,
	"strict-transport-security": true, "vary": true, "x-ratelimit-remaining": true,
}

func skippedHeader(name string) bool {
	n := strings.ToLower(name)
	if skippedHeaders[n] {
		return true
	}
	for _, p := range []string{"x-amz", "cf-", "x-envoy-", "x-cloud-trace", "x-kong-", "x-vercel-", "x-railway-", "fly-"} {
		if strings.HasPrefix(n, p) {
			return true
		}
	}
	return false
}

// observeProxy adds the fields of a proxy reply: its status and content
// type, then the envelope (status, upstream headers, data, binary_data)
// or the error (slug, code, status, which keys it has).
func (o *obs) observeProxy(e exchange) {
	o.set("proxy.status", strconv.Itoa(e.status))
	mt, _, _ := mime.ParseMediaType(e.header.Get("Content-Type"))
	o.set("proxy.content_type", orAbsent(mt))
	var top map[string]json.RawMessage
	if err := json.Unmarshal(e.body, &top); err != nil {
		o.set("proxy.body", describeBytes(e.body))
		return
	}
	if ok := e.status >= 200 && e.status < 300; ok && !isProxyCall(e.path) {
		// Another API call (a listing, a session): which keys it has.
		o.set("api.keys", keysOf(top))
		return
	}
	if e.status != http.StatusOK {
		if raw, ok := top["error"]; ok {
			var eb map[string]json.RawMessage
			if json.Unmarshal(raw, &eb) == nil {
				o.set("error.keys", keysOf(eb))
				for _, k := range []string{"slug", "code", "status"} {
					o.set("error."+k, jsonText(eb[k]))
				}
				o.set("error.request_id", presence(eb["request_id"]))
			}
		} else {
			o.set("error.body.keys", keysOf(top))
		}
		if e.status == http.StatusTooManyRequests || e.header.Get("Retry-After") != "" {
			o.set("proxy.header.Retry-After", classify(e.header.Get("Retry-After")))
		}
		return
	}
	o.set("reply.keys", keysOf(top))
	o.set("reply.status", jsonText(top["status"]))
	var headers map[string]string
	if json.Unmarshal(top["headers"], &headers) == nil {
		for _, k := range slices.Sorted(maps.Keys(headers)) {
			if !skippedHeader(k) {
				o.set("reply.headers."+strings.ToLower(k), headers[k])
			}
		}
	}
	if raw, ok := top["data"]; ok {
		o.set("reply.data", compactJSON(raw))
	}
	if raw, ok := top["binary_data"]; ok {
		var bd map[string]json.RawMessage
		if json.Unmarshal(raw, &bd) == nil {
			o.set("reply.binary_data.keys", keysOf(bd))
			o.set("reply.binary_data.content_type", jsonText(bd["content_type"]))
			o.set("reply.binary_data.size", jsonText(bd["size"]))
			var u, exp string
			json.Unmarshal(bd["url"], &u)
			json.Unmarshal(bd["expires_at"], &exp)
			o.set("reply.binary_data.url", urlClass(u))
			o.set("reply.binary_data.expires_at", timeClass(exp))
		}
	}
}

// observeRateLimit adds the class of each rate-limit header.
func (o *obs) observeRateLimit(e exchange) {
	for _, h := range []string{"X-RateLimit", "X-RateLimit-Remaining", "X-RateLimit-Window-Size"} {
		o.set("proxy.header."+h, classify(e.header.Get(h)))
	}
}

// observeResult adds what the caller of the Transport got.
func (o *obs) observeResult(resp *http.Response, body []byte, err error, headers []string) {
	if err != nil {
		o.set("result", errorKind(err))
		return
	}
	o.set("result", "response "+strconv.Itoa(resp.StatusCode))
	o.set("response.body", describeBytes(body))
	for _, h := range headers {
		o.set("response.header."+h, fmt.Sprintf("%q", resp.Header.Values(h)))
	}
}

// observeDownloads adds the signed-URL downloads.
func (o *obs) observeDownloads(ex []exchange) {
	n := 0
	for _, e := range ex {
		if isAPIPath(e.path) {
			continue
		}
		p := fmt.Sprintf("download[%d].", n)
		o.set(p+"status", strconv.Itoa(e.status))
		mt, _, _ := mime.ParseMediaType(e.header.Get("Content-Type"))
		o.set(p+"content_type", orAbsent(mt))
		o.set(p+"body", describeBytes(e.body))
		n++
	}
	o.set("downloads", strconv.Itoa(n))
}

// errorKind describes an error by type and the fields that matter, never
// by its text (which holds request ids and URLs).
func errorKind(err error) string {
	var pe *composiohttp.Error
	var be *composiohttp.BinaryError
	var ee *composiohttp.EnvelopeError
	switch {
	case errors.As(err, &pe):
		return fmt.Sprintf("proxy error %d %s", pe.StatusCode, pe.Slug)
	case errors.As(err, &be):
		return fmt.Sprintf("binary error (status %d)", be.StatusCode)
	case errors.As(err, &ee):
		return "malformed envelope"
	}
	for _, s := range []error{composiohttp.ErrNoAuthContext, composiohttp.ErrNoAPIKey, composiohttp.ErrBadRequest,
		composiohttp.ErrUnsupportedMethod, composiohttp.ErrBodyTooLarge} {
		if errors.Is(err, s) {
			return "refused: " + s.Error()
		}
	}
	return "transport error"
}

// describeBytes shows a body: its length and digest, and its text when it
// is short, printable text.
func describeBytes(b []byte) string {
	if len(b) == 0 {
		return "empty"
	}
	sum := sha256.Sum256(b)
	d := fmt.Sprintf("%d bytes sha256:%s", len(b), hex.EncodeToString(sum[:6]))
	if utf8.Valid(b) && !bytes.ContainsAny(b, "\x00") {
		return d + " " + strconv.Quote(string(b))
	}
	return d
}

func compactJSON(raw json.RawMessage) string {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return "invalid JSON"
	}
	return b.String()
}

func keysOf[V any](m map[string]V) string {
	return strings.Join(slices.Sorted(maps.Keys(m)), ",")
}

// jsonText is a JSON value's text: a string unquoted, anything else as is.
func jsonText(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "absent"
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

func presence(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" || string(raw) == `""` {
		return "absent"
	}
	return "present"
}

func orAbsent(s string) string {
	if s == "" {
		return "absent"
	}
	return s
}

// classify names the form of a header value: absent, integer, seconds
// ("600s"), HTTP date, or other.
func classify(v string) string {
	switch {
	case v == "":
		return "absent"
	case isDigits(v):
		return "integer"
	case strings.HasSuffix(v, "s") && isDigits(strings.TrimSuffix(v, "s")):
		return "seconds (Ns)"
	}
	if _, err := http.ParseTime(v); err == nil {
		return "HTTP date"
	}
	return "other"
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func urlClass(u string) string {
	switch {
	case u == "":
		return "absent"
	case strings.HasPrefix(u, "https://"):
		return "https URL"
	case strings.HasPrefix(u, "http://"):
		return "http URL"
	}
	return "other"
}

func timeClass(s string) string {
	if s == "" {
		return "absent"
	}
	if _, err := time.Parse(time.RFC3339, s); err == nil {
		return "RFC 3339"
	}
	return "other"
}
