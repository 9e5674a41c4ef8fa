package testutil

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/composiohttp/composiohttp/internal/httpurl"

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
	if k := kindOf(raw); k == kindNull || k == kindMissing {
		return "", false
	}
	if plainString(raw) {
		return string(raw[1 : len(raw)-1]), true
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		c.add(field, "must be a string, got %s", kindOf(raw))
		return "", false
	}
	return v, true
}

// required decodes a required string field: "required" when it is not
// present or null, "must not be empty" when it is "". It returns the
// string, if raw is one.
func (c *fieldCheck) required(field string, raw json.RawMessage, present bool) string {
	if !present || isNull(raw) {
		c.add(field, "required")
		return ""
	}
	v, ok := c.str(field, raw)
	if ok && v == "" {
		c.add(field, "must not be empty")
	}
	return v
}

// object splits a JSON object from the validated envelope, reporting keys
// outside allowed.
func (c *fieldCheck) object(field string, raw json.RawMessage, allowed ...string) (map[string]json.RawMessage, bool) {
	if k := kindOf(raw); k != kindObject {
		c.add(field, "must be an object, got %s", k)
		return nil, false
	}
	m, err := members(raw)
	if err != nil {
		c.add(field, "invalid JSON: %v", err)
		return nil, false
	}
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
	top, err := members(raw)
	if err != nil {
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, validationError(fmt.Sprintf("request body: invalid JSON: %v", err))
		}
		return nil, validationError("request body: must be a JSON object, got " + kindOf(raw).String())
	}
	for _, k := range sortedKeys(top) {
		switch k {
		case "connected_account_id", "endpoint", "method", "body", "binary_body", "parameters", "custom_connection_data":
		default:
			c.add(k, "unknown field")
		}
	}
	env := &envelope{}
	env.accountID, _ = c.str("connected_account_id", top["connected_account_id"])

	endpoint, ok := top["endpoint"]
	env.endpoint = c.required("endpoint", endpoint, ok)

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
	case hasB64 && b64 == "":
		// Composio's schema gives binary_body.base64 a minLength of 1.
		c.add("binary_body.base64", "must not be empty")
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
		if _, ok := httpurl.Parse(u); !ok {
			c.add("binary_body.url", "must be an absolute http or https URL")
		}
		env.binaryURL = u
	}
	return false
}

func (c *fieldCheck) parameters(raw json.RawMessage) []composiohttp.Parameter {
	var list []json.RawMessage
	if k := kindOf(raw); k != kindArray {
		c.add("parameters", "must be an array, got %s", k)
		return nil
	} else if err := json.Unmarshal(raw, &list); err != nil {
		c.add("parameters", "invalid JSON: %v", err)
		return nil
	}
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
		// value is a string, never a number: Parameter.value is
		// Required[str] in composio-base-py
		// src/composio_client/types/tool_proxy_params.py.
		if v, ok := m["value"]; !ok {
			c.add(field+".value", "required")
		} else if k := kindOf(v); k != kindString {
			c.add(field+".value", "must be a string, got %s", k)
		} else {
			p.Value, _ = c.str(field+".value", v)
		}
		if _, ok := m["type"]; !ok {
			c.add(field+".type", "required")
		} else if p.Type, ok = c.str(field+".type", m["type"]); ok &&
			p.Type != composiohttp.ParamHeader && p.Type != composiohttp.ParamQuery {
			c.add(field+".type", "must be %q or %q, got %q", composiohttp.ParamHeader, composiohttp.ParamQuery, p.Type)
		}
		if p.Type == composiohttp.ParamHeader {
			switch canon := http.CanonicalHeaderKey(p.Name); {
			case p.Name != "" && !httpheader.ValidName(p.Name):
				c.add(field+".name", "invalid header name %q", p.Name)
			case httpheader.HopByHop(canon):
				c.add(field+".name", "hop-by-hop header %q cannot be forwarded", p.Name)
			case canon == "Host":
				c.add(field+".name", "the Host header cannot be set: the endpoint's host is used")
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
	if v, ok := m["val"]; ok && !isNull(v) && kindOf(v) != kindObject {
		c.add(field+".val", "must be an object, got %s", kindOf(v))
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

// jsonKind is the JSON type of a value, or kindMissing for none.
type jsonKind uint8

const (
	kindMissing jsonKind = iota
	kindNull
	kindBoolean
	kindNumber
	kindString
	kindArray
	kindObject
)

var kindNames = [...]string{"missing", "null", "boolean", "number", "string", "array", "object"}

func (k jsonKind) String() string { return kindNames[k] }

// kindOf tells the JSON type of raw from its first byte; raw is either
// valid JSON or reported as invalid elsewhere.
func kindOf(raw []byte) jsonKind {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return kindMissing
	}
	switch raw[0] {
	case '{':
		return kindObject
	case '[':
		return kindArray
	case '"':
		return kindString
	case 't', 'f':
		return kindBoolean
	case 'n':
		return kindNull
	}
	return kindNumber
}

func isNull(raw json.RawMessage) bool { return kindOf(raw) == kindNull }

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

// members splits raw, which must be exactly one JSON object (surrounding
// space allowed), validating it strictly with jsonscan. It returns the
// members as json.Unmarshal into a map[string]json.RawMessage would: keys
// unescaped, a repeated key's last value kept, values sharing raw's
// memory.
func members(raw []byte) (map[string]json.RawMessage, error) {
	m := make(map[string]json.RawMessage, 8) // an envelope has at most 7 members
	end, serr := jsonscan.Members(raw, jsonscan.SkipSpace(raw, 0), func(key []byte, vs, ve int) *jsonscan.Error {
		k := string(key[1 : len(key)-1])
		if bytes.IndexByte(key, '\\') >= 0 || !utf8.Valid(key) {
			if err := json.Unmarshal(key, &k); err != nil { // escapes, invalid UTF-8 as U+FFFD
				return &jsonscan.Error{Off: vs, Msg: err.Error()}
			}
		}
		m[k] = raw[vs:ve]
		return nil
	})
	if serr != nil {
		return nil, serr
	}
	if jsonscan.SkipSpace(raw, end) != len(raw) {
		return nil, errors.New("data after the object")
	}
	return m, nil
}

// checkContentType refuses an envelope not sent as application/json. It
// is stricter than httpheader.IsJSON (no "+json" types) on purpose: it is
// the proxy endpoint's own media type, not a body that may be any JSON.
func checkContentType(ct string) *proxyError {
	if ct == contentTypeJSON {
		return nil
	}
	if mt, _, err := mime.ParseMediaType(ct); err == nil && mt == contentTypeJSON {
		return nil
	}
	return validationError(fmt.Sprintf("Content-Type: must be application/json, got %q", ct))
}
