package vcr

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"gopkg.in/dnaeon/go-vcr.v4/pkg/cassette"

	"github.com/composiohttp/composiohttp"
)

// Field is a part of a request that matching compares.
type Field int

// The fields. For a proxy call (a POST whose body is a proxy envelope)
// they are the envelope's; for any other request (a binary download, a
// Composio API call) the HTTP request's. Values are compared after
// scrubbing, so a secret matches whatever value it had when recorded.
const (
	// Method is the envelope's method, or the HTTP method.
	Method Field = iota
	// Endpoint is the envelope's endpoint, or the URL path (the host is
	// not compared: the proxy's address changes between runs).
	Endpoint
	// Parameters are the envelope's parameters in order (type, name,
	// value), or the URL's query values in order.
	Parameters
	// Body is a digest of the envelope's body or binary_body (base64
	// content and content type; for a URL, only its host and content
	// type, since upload URLs are minted per run), or of the HTTP request
	// body.
	Body
	// Account is connected_account_id, the session proxy's
	// toolkit_slug, or a digest of custom_connection_data (secrets
	// scrubbed).
	Account
	// Path is the HTTP path of a proxy call: /api/v3/... or /api/v3.1/...
	Path
)

// DefaultMatch returns the default matching fields: Method, Endpoint,
// Parameters and Body.
func DefaultMatch() []Field { return []Field{Method, Endpoint, Parameters, Body} }

func (f Field) String() string {
	switch f {
	case Method:
		return "method"
	case Endpoint:
		return "endpoint"
	case Parameters:
		return "parameters"
	case Body:
		return "body"
	case Account:
		return "account"
	case Path:
		return "path"
	}
	return fmt.Sprintf("Field(%d)", int(f))
}

// call is a request reduced to what matching compares, scrubbed.
type call struct {
	proxy    bool
	method   string
	endpoint string
	params   []param
	body     string // digest and size, "" for none
	preview  string // the start of the body, scrubbed, for messages
	account  string
	path     string
}

type param struct{ typ, name, value string }

func (p param) String() string { return p.typ + " " + p.name + "=" + p.value }

// proxyEnvelope is what matching reads of a proxy request body.
type proxyEnvelope struct {
	ConnectedAccountID   string                   `json:"connected_account_id"`
	ToolkitSlug          string                   `json:"toolkit_slug"`
	Endpoint             *string                  `json:"endpoint"`
	Method               *string                  `json:"method"`
	Body                 json.RawMessage          `json:"body"`
	BinaryBody           *composiohttp.BinaryBody `json:"binary_body"`
	Parameters           []composiohttp.Parameter `json:"parameters"`
	CustomConnectionData json.RawMessage          `json:"custom_connection_data"`
}

// isProxyPath reports whether path is one of the proxy endpoints: the
// tools proxy or a tool-router session's proxy_execute.
func isProxyPath(path string) bool {
	return strings.HasSuffix(path, "/tools/execute/proxy") || strings.HasSuffix(path, "/proxy_execute")
}

// parseEnvelope decodes body as a proxy envelope, or returns nil.
func parseEnvelope(method, path string, body []byte) *proxyEnvelope {
	if method != http.MethodPost || !isProxyPath(path) {
		return nil
	}
	var env proxyEnvelope
	if json.Unmarshal(body, &env) != nil || env.Endpoint == nil || env.Method == nil {
		return nil
	}
	return &env
}

// callOf reduces a request to a call, scrubbed with the secrets known so
// far, after learning the secrets the request itself carries.
func (s *scrubber) callOf(method string, u *url.URL, h http.Header, body []byte, learn bool) *call {
	if u == nil {
		u = &url.URL{}
	}
	if learn {
		s.learnRequest(u, h, body)
	}
	c := &call{method: method, path: u.Path}
	if env := parseEnvelope(method, u.Path, body); env != nil {
		c.proxy = true
		c.method = *env.Method
		c.endpoint = s.text(*env.Endpoint)
		for _, p := range env.Parameters {
			name := p.Name
			if p.Type == composiohttp.ParamQuery {
				name = s.text(name) // a name may hold a secret ("x;sig=...")
			}
			c.params = append(c.params, param{p.Type, name, s.paramValue(p.Type, p.Name, p.Value)})
		}
		switch {
		case len(env.Body) > 0 && string(env.Body) != "null":
			scrubbed := s.text(string(env.Body))
			c.body = "json " + digest([]byte(scrubbed))
			c.preview = preview(scrubbed)
		case env.BinaryBody != nil && env.BinaryBody.URL != "":
			// Upload URLs are minted per run (presigned, random object
			// keys): only their host is compared.
			host := "?"
			if bu, err := url.Parse(env.BinaryBody.URL); err == nil {
				host = bu.Hostname()
			}
			c.body = "url on " + host + " (" + env.BinaryBody.ContentType + ")"
		case env.BinaryBody != nil:
			raw, err := base64.StdEncoding.DecodeString(env.BinaryBody.Base64)
			if err != nil {
				raw = []byte(env.BinaryBody.Base64)
			}
			c.body = "binary " + digest(raw) + " (" + env.BinaryBody.ContentType + ")"
		}
		switch {
		case env.ConnectedAccountID != "":
			c.account = env.ConnectedAccountID
		case env.ToolkitSlug != "":
			c.account = "toolkit " + env.ToolkitSlug
		case len(env.CustomConnectionData) > 0:
			c.account = "connection " + digest([]byte(s.text(string(s.scrubConnection(env.CustomConnectionData)))))
		}
		return c
	}
	c.endpoint = s.text(u.Path)
	for _, kv := range splitQuery(u.RawQuery) {
		name, _ := url.QueryUnescape(kv[0])
		value, _ := url.QueryUnescape(kv[1])
		c.params = append(c.params, param{"query", name, s.paramValue("query", name, value)})
	}
	if len(body) > 0 {
		scrubbed := s.text(string(body))
		c.body = digest([]byte(scrubbed))
		c.preview = preview(scrubbed)
	}
	return c
}

// splitQuery splits a raw query into name/value pairs, in order.
func splitQuery(q string) [][2]string {
	var out [][2]string
	for q != "" {
		var pair string
		pair, q, _ = strings.Cut(q, "&")
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		out = append(out, [2]string{k, v})
	}
	return out
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return fmt.Sprintf("sha256:%s (%d bytes)", hex.EncodeToString(sum[:8]), len(b))
}

func preview(s string) string {
	const max = 120
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}

// recordedCall reduces a recorded request to a call.
func (r *Recorder) recordedCall(req cassette.Request) *call {
	u, err := url.Parse(req.URL)
	if err != nil {
		u = &url.URL{Path: req.URL}
	}
	return r.scrub.callOf(req.Method, u, req.Headers, []byte(req.Body), false)
}

func (c *call) String() string {
	if c.proxy {
		return "proxy call " + c.method + " " + c.endpoint
	}
	s := c.method + " " + c.endpoint
	if len(c.params) > 0 {
		s += " ?" + joinParams(c.params)
	}
	return s
}

func joinParams(ps []param) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = p.String()
	}
	return strings.Join(parts, ", ")
}

// diff lists how recorded and live differ in the matching fields.
func (r *Recorder) diff(rec, live *call) []string {
	return r.diffFields(r.cfg.match, rec, live)
}

func (r *Recorder) diffFields(fields []Field, rec, live *call) []string {
	var out []string
	add := func(f Field, recorded, got string) {
		out = append(out, fmt.Sprintf("%s: recorded %s, request has %s", f, recorded, got))
	}
	if rec.proxy != live.proxy {
		kind := func(p bool) string {
			if p {
				return "a proxy call"
			}
			return "a plain HTTP request"
		}
		out = append(out, fmt.Sprintf("kind: recorded %s, request is %s", kind(rec.proxy), kind(live.proxy)))
	}
	for _, f := range fields {
		switch f {
		case Method:
			if rec.method != live.method {
				add(f, quote(rec.method), quote(live.method))
			}
		case Endpoint:
			if rec.endpoint != live.endpoint {
				add(f, quote(rec.endpoint), quote(live.endpoint))
			}
		case Parameters:
			rp, lp := r.filterParams(rec.params), r.filterParams(live.params)
			if !slices.Equal(rp, lp) {
				out = append(out, paramDiff(rp, lp)...)
			}
		case Body:
			if rec.body != live.body {
				msg := fmt.Sprintf("body: recorded %s, request has %s", orNone(rec.body), orNone(live.body))
				if rec.preview != "" || live.preview != "" {
					msg += fmt.Sprintf("\n      recorded: %s\n      request:  %s", rec.preview, live.preview)
				}
				out = append(out, msg)
			}
		case Account:
			if rec.account != live.account {
				add(f, quote(rec.account), quote(live.account))
			}
		case Path:
			if rec.path != live.path {
				add(f, quote(rec.path), quote(live.path))
			}
		}
	}
	return out
}

func quote(s string) string { return fmt.Sprintf("%q", s) }

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// filterParams drops ignored parameters; header names compare
// case-insensitively.
func (r *Recorder) filterParams(ps []param) []param {
	out := make([]param, 0, len(ps))
	for _, p := range ps {
		if p.typ == composiohttp.ParamHeader {
			p.name = http.CanonicalHeaderKey(p.name)
		}
		ignored := false
		for _, n := range r.cfg.ignoreParams {
			if n == p.name || (p.typ == composiohttp.ParamHeader && strings.EqualFold(n, p.name)) {
				ignored = true
				break
			}
		}
		if !ignored {
			out = append(out, p)
		}
	}
	return out
}

// paramDiff describes the differences of two parameter lists: those only
// recorded, those only in the request, and changed values.
func paramDiff(rec, live []param) []string {
	var out []string
	type key struct{ typ, name string }
	values := func(ps []param) (map[key][]string, []key) {
		m := make(map[key][]string)
		var order []key
		for _, p := range ps {
			k := key{p.typ, p.name}
			if _, ok := m[k]; !ok {
				order = append(order, k)
			}
			m[k] = append(m[k], p.value)
		}
		return m, order
	}
	rm, rorder := values(rec)
	lm, lorder := values(live)
	for _, k := range rorder {
		lv, ok := lm[k]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("parameters: %s %s recorded %q, missing from the request", k.typ, k.name, rm[k]))
		case !slices.Equal(rm[k], lv):
			out = append(out, fmt.Sprintf("parameters: %s %s recorded %q, request has %q", k.typ, k.name, rm[k], lv))
		}
	}
	for _, k := range lorder {
		if _, ok := rm[k]; !ok {
			out = append(out, fmt.Sprintf("parameters: %s %s=%q in the request, not recorded", k.typ, k.name, lm[k]))
		}
	}
	if len(out) == 0 {
		out = append(out, fmt.Sprintf("parameters: same values in another order: recorded [%s], request has [%s]", joinParams(rec), joinParams(live)))
	}
	return out
}

// weight ranks differences for finding the closest recorded request.
func weight(d string) int {
	switch {
	case strings.HasPrefix(d, "kind:"):
		return 100
	case strings.HasPrefix(d, "method:"), strings.HasPrefix(d, "endpoint:"):
		return 10
	case strings.HasPrefix(d, "body:"), strings.HasPrefix(d, "account:"), strings.HasPrefix(d, "path:"):
		return 3
	}
	return 1
}

// MismatchError is the error of a request that no recorded interaction
// answers. It matches cassette.ErrInteractionNotFound with errors.Is.
// Values in it are scrubbed as in the cassette.
type MismatchError struct {
	// Cassette is the cassette's file name.
	Cassette string
	// Request describes the request.
	Request string
	// Closest is the id of the closest recorded interaction, -1 if the
	// cassette has none.
	Closest int
	// ClosestRequest describes it.
	ClosestRequest string
	// Differences lists how the closest interaction differs from the
	// request, one line each; empty if it matches but was already
	// replayed.
	Differences []string
	// AlreadyReplayed reports that the closest interaction was used by an
	// earlier request (each interaction answers once, unless
	// WithReplayable).
	AlreadyReplayed bool
}

func (e *MismatchError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "composiohttp: vcr: no interaction of %s matches %s", e.Cassette, e.Request)
	switch {
	case e.Closest < 0:
		b.WriteString("; the cassette has no interactions")
	case len(e.Differences) == 0:
		fmt.Fprintf(&b, "; interaction %d (%s) matches but was already replayed (each interaction answers one request; see WithReplayable)", e.Closest, e.ClosestRequest)
	default:
		fmt.Fprintf(&b, "; the closest is interaction %d (%s)", e.Closest, e.ClosestRequest)
		if e.AlreadyReplayed {
			b.WriteString(", already replayed")
		}
		b.WriteString(", which differs in:")
		for _, d := range e.Differences {
			b.WriteString("\n    ")
			b.WriteString(d)
		}
	}
	fmt.Fprintf(&b, "\n  (re-record with %s=1, add episodes with %s=new, or edit the cassette)", EnvRecord, EnvRecord)
	return b.String()
}

// Unwrap returns cassette.ErrInteractionNotFound.
func (e *MismatchError) Unwrap() error { return cassette.ErrInteractionNotFound }

// mismatch builds the error for an unmatched request.
func (r *Recorder) mismatch(live *call) error {
	r.loadOnce.Do(func() {
		c, err := cassette.Load(r.name)
		if err == nil {
			r.loaded = c
		}
	})
	e := &MismatchError{Cassette: r.file, Request: live.String(), Closest: -1}
	if r.loaded == nil {
		return e
	}
	best := -1
	for _, in := range r.loaded.Interactions {
		rc := r.recordedCall(in.Request)
		diffs := r.diff(rc, live)
		score := 0
		for _, d := range diffs {
			score += weight(d)
		}
		if best < 0 || score < best {
			best = score
			e.Closest, e.ClosestRequest, e.Differences = in.ID, rc.String(), diffs
		}
	}
	// No difference in the matching fields: it was used already.
	e.AlreadyReplayed = best >= 0 && len(e.Differences) == 0
	return e
}
