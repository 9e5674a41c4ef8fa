package testutil

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/internal/httpheader"
	"github.com/composiohttp/composiohttp/internal/jsonscan"
)

// envelope is a validated proxy request.
type envelope struct {
	accountID  string
	endpoint   string
	method     string
	body       json.RawMessage // nil when absent or null
	binary     []byte          // decoded binary_body.base64
	base64     string
	binaryURL  string
	binaryType string
	hasBinary  bool
	params     []composiohttp.Parameter
	conn       *credentials.Connection
}

var methods = []string{
	http.MethodGet, http.MethodPost, http.MethodPut,
	http.MethodDelete, http.MethodPatch, http.MethodHead,
}

// fieldCheck collects validation errors, "<field>: <problem>".
type fieldCheck struct{ errs []string }

func (c *fieldCheck) add(field, format string, args ...any) {
	c.errs = append(c.errs, field+": "+fmt.Sprintf(format, args...))
}

// str decodes a JSON string; null counts as absent.
func (c *fieldCheck) str(field string, raw json.RawMessage) (string, bool) {
	if k := kind(raw); k == "null" || k == "missing" {
		return "", false
	}
	if plainString(raw) {
		return string(raw[1 : len(raw)-1]), true
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		c.add(field, "must be a string, got %s", kind(raw))
		return "", false
	}
	return v, true
}

// object splits a JSON object from the validated envelope, reporting keys
// outside allowed.
func (c *fieldCheck) object(field string, raw json.RawMessage, allowed ...string) (map[string]json.RawMessage, bool) {
	if kind(raw) != "object" {
		c.add(field, "must be an object, got %s", kind(raw))
		return nil, false
	}
	m := members(raw)
	for _, k := range sortedKeys(m) {
		if !slices.Contains(allowed, k) {
			c.add(joinField(field, k), "unknown field")
		}
	}
	return m, true
}

func joinField(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}

// decodeEnvelope validates a proxy request body strictly.
func decodeEnvelope(raw []byte) (*envelope, *proxyError) {
	var c fieldCheck
	if kind(raw) != "object" || !jsonscan.Valid(raw) {
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, validationError(fmt.Sprintf("request body: invalid JSON: %v", err))
		}
		return nil, validationError("request body: must be a JSON object, got " + kind(raw))
	}
	top := members(raw)
	for _, k := range sortedKeys(top) {
		switch k {
		case "connected_account_id", "endpoint", "method", "body", "binary_body", "parameters", "custom_connection_data":
		default:
			c.add(k, "unknown field")
		}
	}
	env := &envelope{}
	env.accountID, _ = c.str("connected_account_id", top["connected_account_id"])

	if raw, ok := top["endpoint"]; !ok || isNull(raw) {
		c.add("endpoint", "required")
	} else if ep, ok := c.str("endpoint", raw); ok {
		if ep == "" {
			c.add("endpoint", "must not be empty")
		}
		env.endpoint = ep
	}

	if raw, ok := top["method"]; !ok || isNull(raw) {
		c.add("method", "required")
	} else if m, ok := c.str("method", raw); ok {
		if !slices.Contains(methods, m) {
			c.add("method", "must be one of %s, got %q", strings.Join(methods, ", "), m)
		}
		env.method = m
	}

	if raw, ok := top["body"]; ok && !isNull(raw) {
		env.body = json.RawMessage(bytes.TrimSpace(raw))
	}

	tooLarge := false
	if raw, ok := top["binary_body"]; ok && !isNull(raw) {
		tooLarge = c.binaryBody(env, raw)
	}
	if env.body != nil && env.hasBinary {
		c.add("body", "only one of body and binary_body may be given")
	}

	if raw, ok := top["parameters"]; ok && !isNull(raw) {
		env.params = c.parameters(raw)
	}

	if raw, ok := top["custom_connection_data"]; ok && !isNull(raw) {
		env.conn = c.connection(raw)
	}
	if env.accountID != "" && env.conn != nil {
		c.add("connected_account_id", "only one of connected_account_id and custom_connection_data may be given")
	}

	switch {
	case len(c.errs) > 0:
		return nil, validationError(c.errs...)
	case tooLarge:
		e := newError(http.StatusBadRequest, composiohttp.SlugPayloadTooLarge,
			fmt.Sprintf("binary_body.base64 is larger than %d bytes", composiohttp.MaxInlineBody),
			"binary_body.base64: decoded size over the 4 MB limit")
		e.fix = "Upload large files somewhere reachable and pass binary_body.url instead."
		return nil, e
	case env.accountID == "" && env.conn == nil:
		e := newError(http.StatusBadRequest, composiohttp.SlugMissingAuthContext,
			"Either connected_account_id or custom_connection_data is required")
		e.fix = "Pass the connected account id of the user, or the connection's credentials in custom_connection_data."
		return nil, e
	}
	return env, nil
}

func validationError(errs ...string) *proxyError {
	e := newError(http.StatusBadRequest, composiohttp.SlugValidationError, "Validation error while processing request", errs...)
	e.fix = validationSuggestedFix
	return e
}

// binaryBody checks binary_body and reports whether its base64 is over the
// size limit.
func (c *fieldCheck) binaryBody(env *envelope, raw json.RawMessage) (tooLarge bool) {
	m, ok := c.object("binary_body", raw, "base64", "url", "content_type")
	if !ok {
		return false
	}
	env.hasBinary = true
	b64, hasB64 := c.str("binary_body.base64", m["base64"])
	u, hasURL := c.str("binary_body.url", m["url"])
	env.binaryType, _ = c.str("binary_body.content_type", m["content_type"])
	switch {
	case hasB64 && hasURL:
		c.add("binary_body", "only one of base64 and url may be given")
	case !hasB64 && !hasURL:
		c.add("binary_body", "one of base64 and url is required")
	case hasB64:
		env.base64 = b64
		if base64.StdEncoding.DecodedLen(len(b64)) > composiohttp.MaxInlineBody+3 {
			return true
		}
		b, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			c.add("binary_body.base64", "invalid base64: %v", err)
			return false
		}
		if len(b) > composiohttp.MaxInlineBody {
			return true
		}
		env.binary = b
	case hasURL:
		pu, err := url.Parse(u)
		if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			c.add("binary_body.url", "must be an absolute http or https URL")
		}
		env.binaryURL = u
	}
	return false
}

func (c *fieldCheck) parameters(raw json.RawMessage) []composiohttp.Parameter {
	if kind(raw) != "array" {
		c.add("parameters", "must be an array, got %s", kind(raw))
		return nil
	}
	list := elements(raw)
	params := make([]composiohttp.Parameter, 0, len(list))
	for i, item := range list {
		field := fmt.Sprintf("parameters[%d]", i)
		m, ok := c.object(field, item, "name", "value", "type")
		if !ok {
			continue
		}
		var p composiohttp.Parameter
		if _, ok := m["name"]; !ok {
			c.add(field+".name", "required")
		} else if p.Name, ok = c.str(field+".name", m["name"]); ok && p.Name == "" {
			c.add(field+".name", "must not be empty")
		}
		switch v := m["value"]; kind(v) {
		case "string":
			json.Unmarshal(v, &p.Value)
		case "number":
			p.Value = string(v)
		case "missing":
			c.add(field+".value", "required")
		default:
			c.add(field+".value", "must be a string or a number, got %s", kind(v))
		}
		if _, ok := m["type"]; !ok {
			c.add(field+".type", "required")
		} else if p.Type, ok = c.str(field+".type", m["type"]); ok &&
			p.Type != composiohttp.ParamHeader && p.Type != composiohttp.ParamQuery {
			c.add(field+".type", "must be %q or %q, got %q", composiohttp.ParamHeader, composiohttp.ParamQuery, p.Type)
		}
		if p.Type == composiohttp.ParamHeader {
			if p.Name != "" && !httpheader.ValidName(p.Name) {
				c.add(field+".name", "invalid header name %q", p.Name)
			}
			if !httpheader.ValidValue(p.Value) {
				c.add(field+".value", "invalid header value")
			}
		}
		params = append(params, p)
	}
	return params
}

func (c *fieldCheck) connection(raw json.RawMessage) *credentials.Connection {
	const field = "custom_connection_data"
	m, ok := c.object(field, raw, "authScheme", "toolkitSlug", "val")
	if !ok {
		return nil
	}
	n := len(c.errs)
	if _, ok := m["authScheme"]; !ok {
		c.add(field+".authScheme", "required")
	} else if s, ok := c.str(field+".authScheme", m["authScheme"]); ok && s == "" {
		c.add(field+".authScheme", "must not be empty")
	}
	c.str(field+".toolkitSlug", m["toolkitSlug"])
	if v, ok := m["val"]; ok && !isNull(v) && kind(v) != "object" {
		c.add(field+".val", "must be an object, got %s", kind(v))
	}
	if len(c.errs) > n {
		return nil
	}
	var conn credentials.Connection
	if err := json.Unmarshal(raw, &conn); err != nil {
		c.add(field, "invalid connection: %v", err)
		return nil
	}
	return &conn
}

// kind names the JSON type of raw, or "missing" for no value.
func kind(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "missing"
	}
	switch raw[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

func isNull(raw json.RawMessage) bool { return kind(raw) == "null" }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// plainString reports whether raw, valid JSON, is a string without escapes.
func plainString(raw json.RawMessage) bool {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return false
	}
	return bytes.IndexByte(raw[1:len(raw)-1], '\\') < 0
}

// proxyRequest returns env as the exported wire type, for recording.
func (env *envelope) proxyRequest() composiohttp.ProxyRequest {
	pr := composiohttp.ProxyRequest{
		ConnectedAccountID:   env.accountID,
		Endpoint:             env.endpoint,
		Method:               env.method,
		Body:                 env.body,
		Parameters:           env.params,
		CustomConnectionData: env.conn,
	}
	if env.hasBinary {
		pr.BinaryBody = &composiohttp.BinaryBody{Base64: env.base64, URL: env.binaryURL, ContentType: env.binaryType}
	}
	return pr
}

// The envelope is checked with jsonscan.Valid once; members and elements then
// split valid JSON by hand instead of decoding it again with reflection.

// members returns the members of raw, a valid JSON object, as
// json.Unmarshal into a map[string]json.RawMessage would: keys unescaped,
// a repeated key's last value kept, values sharing raw's memory.
func members(raw []byte) map[string]json.RawMessage {
	m := make(map[string]json.RawMessage, 8) // an envelope has at most 7 members
	split(raw, func(key, value []byte) {
		k := string(key[1 : len(key)-1])
		if bytes.IndexByte(key, '\\') >= 0 || !utf8.Valid(key) {
			json.Unmarshal(key, &k) // escapes, invalid UTF-8 as U+FFFD
		}
		m[k] = value
	})
	return m
}

// elements returns the elements of raw, a valid JSON array, as
// json.Unmarshal into a []json.RawMessage would, sharing raw's memory.
func elements(raw []byte) []json.RawMessage {
	var list []json.RawMessage
	split(raw, func(_, value []byte) { list = append(list, value) })
	return list
}

// split calls f with each member (key quoted as in raw) or element (key
// nil) of raw, a valid JSON object or array; values are trimmed.
func split(raw []byte, f func(key, value []byte)) {
	i := skipSpace(raw, 0)
	object := raw[i] == '{'
	i++
	for {
		i = skipSpace(raw, i)
		if raw[i] == '}' || raw[i] == ']' {
			return
		}
		var key []byte
		if object {
			end := stringEnd(raw, i)
			key = raw[i:end]
			i = skipSpace(raw, skipSpace(raw, end)+1) // past ':'
		}
		end := valueEnd(raw, i)
		f(key, raw[i:end])
		i = skipSpace(raw, end)
		if raw[i] == ',' {
			i++
		}
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index past the valid JSON string starting at b[i].
func stringEnd(b []byte, i int) int {
	for i++; b[i] != '"'; i++ {
		if b[i] == '\\' {
			i++
		}
	}
	return i + 1
}

// valueEnd returns the index past the valid JSON value starting at b[i].
func valueEnd(b []byte, i int) int {
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for ; ; i++ {
			switch b[i] {
			case '"':
				i = stringEnd(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
	}
	for i < len(b) && strings.IndexByte(",}] \t\n\r", b[i]) < 0 {
		i++
	}
	return i
}
