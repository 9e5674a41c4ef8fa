package vcr

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"gopkg.in/dnaeon/go-vcr.v4/pkg/cassette"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/internal/urlredact"
)

// Placeholders written in place of what is scrubbed or normalised.
const (
	// Redacted replaces a secret value (credentials.Redacted).
	Redacted = credentials.Redacted
	// RedactedParam replaces a secret query value in a URL
	// (credentials.RedactedParam).
	RedactedParam = credentials.RedactedParam
	// FixedDate replaces Date and other volatile date headers.
	FixedDate = "Mon, 01 Jan 2024 00:00:00 GMT"
	// FixedExpiry replaces binary_data.expires_at.
	FixedExpiry = "2099-12-31T23:59:59Z"
	// Normalised replaces volatile header values that are not dates.
	Normalised = "normalised"
	// BinaryBaseURL is where recorded binary_data URLs point in a
	// cassette: https://binary.composio.invalid/<digest of the call>.
	// Replay answers requests to them from the cassette.
	BinaryBaseURL = "https://binary.composio.invalid"
	// UploadPath is the path of every binary_body.url in a cassette:
	// https://<host>/recorded-upload.
	UploadPath = "recorded-upload"
	// minSecretLen is the shortest value scrubbed by value: shorter ones
	// would blank out ordinary text.
	minSecretLen = 4
	// minCookieSecretLen is the shortest cookie value replaced wherever it
	// appears (the Cookie parameter itself is always redacted).
	minCookieSecretLen = 8
)

// DefaultVolatileHeaders are response headers whose values change from
// run to run, normalised in cassettes: dates get FixedDate, request ids
// req_recorded_<interaction id> (the proxy's X-Request-Id) or Normalised.
func DefaultVolatileHeaders() []string {
	return []string{"Date", "X-Request-Id", "Request-Id", "X-Github-Request-Id", "Cf-Ray",
		"X-Amz-Request-Id", "X-Amz-Id-2", "X-Amzn-Requestid", "X-Amzn-Trace-Id",
		"X-Runtime", "Server-Timing", "Report-To", "Nel", "Age"}
}

// scrubber removes secrets and run-to-run noise from interactions. It
// learns secret values from every request it sees (API key headers,
// Authorization and cookie parameters, custom_connection_data secrets,
// secret query values) and from WithSecrets, and replaces them everywhere.
type scrubber struct {
	cfg *config

	mu       sync.Mutex
	secrets  map[string]bool
	replacer *strings.Replacer // nil: rebuild
	binary   map[string]string // recorded binary URL -> cassette URL
}

func newScrubber(cfg *config) *scrubber {
	s := &scrubber{cfg: cfg, secrets: make(map[string]bool), binary: make(map[string]string)}
	for _, v := range cfg.secrets {
		s.addLocked(v)
	}
	return s
}

// addLocked adds a secret value and its JSON-escaped forms.
func (s *scrubber) addLocked(v string) {
	if len(v) < minSecretLen || v == Redacted || v == RedactedParam {
		return
	}
	forms := []string{v}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
	forms = append(forms, strings.TrimSuffix(strings.TrimSuffix(b.String(), "\n")[1:], `"`))
	if q, err := json.Marshal(v); err == nil {
		forms = append(forms, string(q[1:len(q)-1]))
	}
	forms = append(forms, url.QueryEscape(v), url.PathEscape(v))
	for _, f := range forms {
		if len(f) >= minSecretLen && !s.secrets[f] {
			s.secrets[f] = true
			s.replacer = nil
		}
	}
}

func (s *scrubber) add(values ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range values {
		s.addLocked(v)
	}
}

// isSecretParam reports whether a parameter's value is scrubbed by name.
func (s *scrubber) isSecretParam(name string) bool {
	if credentials.IsSecretParam(name) {
		return true
	}
	for _, n := range s.cfg.secretParams {
		if strings.EqualFold(n, name) {
			return true
		}
	}
	return false
}

// text replaces every known secret in t.
func (s *scrubber) text(t string) string {
	s.mu.Lock()
	if s.replacer == nil {
		keys := make([]string, 0, len(s.secrets))
		for k := range s.secrets {
			keys = append(keys, k)
		}
		// Longest first, so that a secret containing another goes whole.
		slices.SortFunc(keys, func(a, b string) int {
			if len(a) != len(b) {
				return len(b) - len(a)
			}
			return strings.Compare(a, b)
		})
		pairs := make([]string, 0, 2*len(keys))
		for _, k := range keys {
			pairs = append(pairs, k, Redacted)
		}
		s.replacer = strings.NewReplacer(pairs...)
	}
	rep := s.replacer
	s.mu.Unlock()
	return s.urlsIn(rep.Replace(t))
}

// paramValue is the scrubbed value of a parameter.
func (s *scrubber) paramValue(typ, name, value string) string {
	if s.isSecretParam(name) || (typ == composiohttp.ParamHeader && secretHeader(name)) {
		if value == "" {
			return ""
		}
		return Redacted
	}
	return s.text(value)
}

// secretHeader reports whether a header's value is a credential.
func secretHeader(name string) bool {
	switch http.CanonicalHeaderKey(name) {
	case "Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie", "X-Api-Key", "X-User-Api-Key":
		return true
	}
	return credentials.IsSecret(name)
}

// urlRE finds http(s) URLs in text, including JSON text where & may be
// escaped as \u0026.
var urlRE = regexp.MustCompile(`https?://(?:[^\s"'<>\\` + "`" + `]|\\u0026)+`)

// urlsIn scrubs the secret query and path parameter values of every URL
// in t.
func (s *scrubber) urlsIn(t string) string {
	if !strings.Contains(t, "://") {
		return t
	}
	return urlRE.ReplaceAllStringFunc(t, s.url)
}

// url scrubs the secret query values of one URL (also with & written as
// \u0026) and its secret path parameter values ("/app;jsessionid=…",
// credentials.RedactPath: a session a server mints into its links is
// never sent, so never learnt), normalises its time values
// (volatileParam), keeping everything else as it is.
func (s *scrubber) url(u string) string {
	base, query, ok := strings.Cut(u, "?")
	if scheme, rest, found := strings.Cut(base, "://"); found && strings.IndexByte(rest, ';') >= 0 {
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			if p := credentials.RedactPath(rest[i:]); p != rest[i:] {
				base = scheme + "://" + rest[:i] + p
			}
		}
	}
	if !ok {
		return base
	}
	var b strings.Builder
	b.WriteString(base)
	b.WriteByte('?')
	for query != "" {
		i, sepLen := len(query), 0
		if j := strings.Index(query, "&"); j >= 0 {
			i, sepLen = j, 1
		}
		if j := strings.Index(query, `\u0026`); j >= 0 && j < i {
			i, sepLen = j, len(`\u0026`)
		}
		pair := query[:i]
		sep := query[i : i+sepLen]
		query = query[i+sepLen:]
		name, _, hasValue := strings.Cut(pair, "=")
		uname, err := url.QueryUnescape(name)
		if err != nil {
			uname = name
		}
		switch {
		case hasValue && s.isSecretParam(uname):
			b.WriteString(name + "=" + RedactedParam)
		case hasValue && volatileParam(uname):
			b.WriteString(name + "=" + Normalised)
		default:
			b.WriteString(pair)
		}
		b.WriteString(sep)
	}
	return b.String()
}

// volatileParam reports whether a URL query parameter holds a time that
// changes every run (signed URLs' dates and expiries).
func volatileParam(name string) bool {
	switch strings.ToLower(name) {
	case "exp", "expires", "x-amz-date", "x-amz-expires", "x-goog-date", "x-goog-expires", "se", "st":
		return true
	}
	return false
}

// learnRequest adds the secrets a request carries.
func (s *scrubber) learnRequest(u *url.URL, h http.Header, body []byte) {
	var found []string
	for name, vs := range h {
		if secretHeader(name) {
			for _, v := range vs {
				found = append(found, headerSecrets(name, v)...)
			}
		}
	}
	if u != nil {
		found = append(found, s.querySecrets(u.RawQuery)...)
		found = append(found, credentials.PathSecrets(u.EscapedPath())...) // "/app;jsessionid=…"
	}
	if u != nil {
		if env := parseEnvelope(http.MethodPost, u.Path, body); env != nil {
			if env.Endpoint != nil {
				// Secret path and query parameters of the endpoint.
				found = append(found, urlredact.URLSecrets(*env.Endpoint)...)
			}
			for _, p := range env.Parameters {
				switch {
				case s.isSecretParam(p.Name) || (p.Type == composiohttp.ParamHeader && secretHeader(p.Name)):
					found = append(found, headerSecrets(p.Name, p.Value)...)
				case p.Type == composiohttp.ParamQuery:
					// A value that reads as parameters of its own
					// ("1;access_token=..."), as composiohttp.Parameter
					// prints it.
					found = append(found, s.paramSecrets(p.Value, false)...)
				}
				if p.Type == composiohttp.ParamQuery {
					// A name that does ("x;sig=...", sent as
					// x%3Bsig%3D...=1), as composiohttp.Parameter prints it.
					found = append(found, s.paramSecrets(p.Name, false)...)
				}
			}
			if env.BinaryBody != nil && env.BinaryBody.URL != "" {
				if bu, err := url.Parse(env.BinaryBody.URL); err == nil {
					found = append(found, s.querySecrets(bu.RawQuery)...)
				}
			}
			found = append(found, connectionSecrets(env.CustomConnectionData)...)
			found = append(found, bodySecrets(env.Body)...)
		}
	}
	s.add(found...)
}

// headerSecrets returns the secret parts of a header value: the whole
// value, the credentials after an auth scheme word, and cookie values.
func headerSecrets(name, v string) []string {
	out := []string{v}
	switch http.CanonicalHeaderKey(name) {
	case "Authorization", "Proxy-Authorization":
		if _, cred, ok := strings.Cut(v, " "); ok {
			out = append(out, strings.TrimSpace(cred))
			if raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred)); err == nil {
				user, pass, _ := strings.Cut(string(raw), ":")
				out = append(out, user, pass)
			}
		}
	case "Cookie", "Set-Cookie":
		// Cookie values are replaced everywhere only when long enough to
		// be tokens: "theme=dark" must not blank out every "dark".
		for part := range strings.SplitSeq(v, ";") {
			if _, val, ok := strings.Cut(part, "="); ok && len(strings.TrimSpace(val)) >= minCookieSecretLen {
				out = append(out, strings.TrimSpace(val))
			}
		}
	}
	return out
}

// querySecrets returns the values of the secret parameters of a raw
// (escaped) query.
func (s *scrubber) querySecrets(q string) []string { return s.paramSecrets(q, true) }

// paramSecrets returns the values of the secret parameters in q, split as
// credentials.RedactQuery splits it: on "&", and, since some servers split
// on it too, on ";" (a=1;access_token=...). escaped says q is a raw query
// (its names and values are unescaped); else it is a decoded query
// parameter's value, whose text is taken as it is. What RedactQuery
// hides in q (escaped inside a value too: "z%3Bsig%3D…") is added raw
// and decoded (credentials.QuerySecrets); the loop below adds the
// parameters WithSecretParams names.
func (s *scrubber) paramSecrets(q string, escaped bool) []string {
	text := func(v string) string {
		if !escaped {
			return v
		}
		if u, err := url.QueryUnescape(v); err == nil {
			return u
		}
		return v
	}
	out := credentials.QuerySecrets(q)
	for _, kv := range splitQuery(q) {
		if s.isSecretParam(text(kv[0])) {
			out = append(out, text(kv[1]))
			continue
		}
		pair := kv[0] + "=" + kv[1]
		for part := range strings.SplitSeq(pair, ";") {
			if name, v, ok := strings.Cut(part, "="); ok && s.isSecretParam(text(name)) {
				out = append(out, text(v))
			}
		}
	}
	return out
}

// connectionSecrets returns the secret values of custom_connection_data:
// every string under a key credentials.IsSecret names (including inside
// JSON held in a string, such as credentials_json), and the basic-auth
// encodings of username and password.
func connectionSecrets(raw json.RawMessage) []string {
	if len(raw) == 0 {
		return nil
	}
	var conn struct {
		Val map[string]any `json:"val"`
	}
	if json.Unmarshal(raw, &conn) != nil {
		return nil
	}
	var out []string
	collectSecrets(conn.Val, false, &out)
	user, _ := conn.Val["username"].(string)
	pass, _ := conn.Val["password"].(string)
	if user != "" || pass != "" {
		out = append(out, base64.StdEncoding.EncodeToString([]byte(user+":"+pass)))
	}
	return out
}

// bodySecrets returns the values under secret keys (credentials.IsSecret,
// at any depth) of a JSON request body: a password or client_secret the
// caller sends upstream.
func bodySecrets(raw json.RawMessage) []string {
	if len(raw) == 0 {
		return nil
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return nil
	}
	var out []string
	collectSecrets(v, false, &out)
	return out
}

// accountSecrets returns the credentials a reply of Composio's API may
// carry: a connected-accounts listing gives each item's state.val, data
// and params (access and refresh tokens, unless the project masks them).
func accountSecrets(raw []byte) []string {
	var page struct {
		Items []struct {
			State struct {
				Val credentials.Val `json:"val"`
			} `json:"state"`
			Data   credentials.Val `json:"data"`
			Params credentials.Val `json:"params"`
		} `json:"items"`
	}
	if json.Unmarshal(raw, &page) != nil {
		return nil
	}
	var out []string
	for _, it := range page.Items {
		out = append(out, it.State.Val.SecretValues()...)
		out = append(out, it.Data.SecretValues()...)
		out = append(out, it.Params.SecretValues()...)
	}
	return out
}

// collectSecrets appends the strings of v that are secret: all of them
// under a secret key.
func collectSecrets(v any, secret bool, out *[]string) {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			collectSecrets(e, secret || credentials.IsSecret(k), out)
		}
	case []any:
		for _, e := range v {
			collectSecrets(e, secret, out)
		}
	case string:
		if secret {
			*out = append(*out, v)
		}
		if t := strings.TrimSpace(v); strings.HasPrefix(t, "{") {
			var inner any
			if json.Unmarshal([]byte(t), &inner) == nil {
				collectSecrets(inner, secret, out)
			}
		}
	case json.Number:
		if secret {
			*out = append(*out, v.String())
		}
	}
}

// scrubConnection returns custom_connection_data with the value of every
// secret key of val (credentials.IsSecret, at any depth) replaced by
// Redacted; other keys keep their values. Invalid JSON is replaced whole.
func (s *scrubber) scrubConnection(raw json.RawMessage) json.RawMessage {
	var conn map[string]json.RawMessage
	if json.Unmarshal(raw, &conn) != nil {
		return json.RawMessage(strconv.Quote(Redacted))
	}
	if val, ok := conn["val"]; ok {
		var m map[string]any
		d := json.NewDecoder(bytes.NewReader(val))
		d.UseNumber()
		if d.Decode(&m) != nil {
			conn["val"] = json.RawMessage(strconv.Quote(Redacted))
		} else {
			conn["val"] = marshal(redactValues(m))
		}
	}
	return marshal(conn)
}

func redactValues(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if credentials.IsSecret(k) && e != nil && e != "" {
				v[k] = Redacted
			} else {
				v[k] = redactValues(e)
			}
		}
	case []any:
		for i, e := range v {
			v[i] = redactValues(e)
		}
	}
	return v
}

// marshal encodes v without HTML escaping.
func marshal(v any) json.RawMessage {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if enc.Encode(v) != nil {
		return json.RawMessage(strconv.Quote(Redacted))
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// collect is the AfterCaptureHook: it learns the secrets of a recorded
// request, changing nothing (the response goes back to the caller as
// recorded; scrubbing happens before saving).
func (s *scrubber) collect(i *cassette.Interaction) error {
	u, err := url.Parse(i.Request.URL)
	if err != nil {
		u = &url.URL{}
	}
	s.learnRequest(u, i.Request.Headers, []byte(i.Request.Body))
	return nil
}

// beforeSave is the BeforeSaveHook: it scrubs secrets and normalises
// what changes from run to run, in place. It is idempotent, so
// interactions loaded from a cassette pass through it unchanged.
func (s *scrubber) beforeSave(i *cassette.Interaction) error {
	u, err := url.Parse(i.Request.URL)
	if err != nil {
		u = &url.URL{}
	}
	s.learnRequest(u, i.Request.Headers, []byte(i.Request.Body))
	composio := i.Request.Headers.Get("X-Api-Key") != "" || i.Request.Headers.Get("X-User-Api-Key") != ""

	// The request.
	reqHeaders := i.Request.Headers.Clone()
	for name, vs := range reqHeaders {
		for j := range vs {
			if secretHeader(name) {
				vs[j] = Redacted
			} else {
				vs[j] = s.text(vs[j])
			}
		}
	}
	i.Request.Headers = reqHeaders
	if composio {
		// The proxy's address varies (a fake on a random port): one origin.
		d, _ := url.Parse(composiohttp.DefaultBaseURL)
		u.Scheme, u.Host = d.Scheme, d.Host
	}
	s.mu.Lock()
	mapped, isBinary := s.binary[i.Request.URL]
	s.mu.Unlock()
	reqURL := u.String()
	if isBinary {
		reqURL = mapped
	}
	reqURL = s.text(reqURL)
	i.Request.URL = reqURL
	if nu, err := url.Parse(reqURL); err == nil {
		i.Request.Host = nu.Host
	}
	i.Request.Form = nil
	i.Request.RequestURI, i.Request.RemoteAddr = "", ""
	env := parseEnvelope(i.Request.Method, u.Path, []byte(i.Request.Body))
	if env != nil {
		i.Request.Body = string(s.scrubEnvelope([]byte(i.Request.Body)))
	} else {
		i.Request.Body = s.text(i.Request.Body)
	}
	if i.Request.ContentLength >= 0 {
		i.Request.ContentLength = int64(len(i.Request.Body))
	}

	// The response.
	reqID := ""
	respHeaders := i.Response.Headers.Clone()
	for name, vs := range respHeaders {
		canon := http.CanonicalHeaderKey(name)
		for j := range vs {
			switch {
			case canon == "X-Request-Id" && env != nil:
				if reqID == "" {
					reqID = vs[j]
				}
				vs[j] = "req_recorded_" + strconv.Itoa(i.ID)
			case secretHeader(name):
				vs[j] = Redacted
			case s.volatile(canon):
				vs[j] = volatileValue(canon)
			default:
				vs[j] = s.text(vs[j])
			}
		}
	}
	body := i.Response.Body
	if env != nil {
		if reqID != "" && !strings.HasPrefix(reqID, "req_recorded_") {
			body = strings.ReplaceAll(body, strconv.Quote(reqID), strconv.Quote("req_recorded_"+strconv.Itoa(i.ID)))
		}
		if i.Response.Code == http.StatusOK {
			body = string(s.scrubReply([]byte(body), s.callOf(i.Request.Method, u, nil, []byte(i.Request.Body), false)))
		}
	}
	if composio && env == nil {
		s.add(accountSecrets([]byte(body))...)
	}
	body = s.text(body)
	if len(body) != len(i.Response.Body) && i.Response.ContentLength >= 0 {
		i.Response.ContentLength = int64(len(body))
		if respHeaders.Get("Content-Length") != "" {
			respHeaders.Set("Content-Length", strconv.Itoa(len(body)))
		}
	}
	i.Response.Body = body
	i.Response.Headers = respHeaders
	i.Response.Duration = 0
	return nil
}

func (s *scrubber) volatile(canon string) bool {
	for _, n := range DefaultVolatileHeaders() {
		if n == canon {
			return true
		}
	}
	for _, n := range s.cfg.volatile {
		if http.CanonicalHeaderKey(n) == canon {
			return true
		}
	}
	return false
}

func volatileValue(canon string) string {
	switch canon {
	case "Date", "Expires", "Last-Modified":
		return FixedDate
	case "Age":
		return "0"
	}
	return Normalised
}

// members returns the top-level members of a JSON object with the byte
// span of each value, in order; nil if raw is not an object.
func members(raw []byte) []member {
	d := json.NewDecoder(bytes.NewReader(raw))
	if t, err := d.Token(); err != nil || t != json.Delim('{') {
		return nil
	}
	var out []member
	for d.More() {
		t, err := d.Token()
		if err != nil {
			return nil
		}
		key, _ := t.(string)
		start := int(d.InputOffset())
		for start < len(raw) && (raw[start] == ':' || raw[start] == ' ' || raw[start] == '\t' || raw[start] == '\n' || raw[start] == '\r') {
			start++
		}
		var v json.RawMessage
		if err := d.Decode(&v); err != nil {
			return nil
		}
		out = append(out, member{key: key, start: start, end: int(d.InputOffset())})
	}
	return out
}

type member struct {
	key        string
	start, end int
}

// splice replaces the values of the given members of the object raw,
// leaving every other byte as it was.
func splice(raw []byte, ms []member, repl map[string][]byte) []byte {
	var out []byte
	last := 0
	for _, m := range ms {
		v, ok := repl[m.key]
		if !ok {
			continue
		}
		out = append(out, raw[last:m.start]...)
		out = append(out, v...)
		last = m.end
	}
	return append(out, raw[last:]...)
}

// scrubEnvelope scrubs a request envelope: custom_connection_data
// secrets, secret parameters, binary_body.url's signature, then any
// secret value left anywhere.
func (s *scrubber) scrubEnvelope(raw []byte) []byte {
	ms := members(raw)
	repl := make(map[string][]byte)
	for _, m := range ms {
		v := raw[m.start:m.end]
		switch m.key {
		case "custom_connection_data":
			repl[m.key] = s.scrubConnection(v)
		case "parameters":
			var ps []composiohttp.Parameter
			if json.Unmarshal(v, &ps) == nil {
				for j := range ps {
					ps[j].Value = s.paramValue(ps[j].Type, ps[j].Name, ps[j].Value)
				}
				repl[m.key] = marshal(ps)
			}
		case "binary_body":
			var bb composiohttp.BinaryBody
			if json.Unmarshal(v, &bb) == nil && bb.URL != "" {
				// Minted per run (presigned, a random key, a fake's port):
				// only the host is kept, which is what matching compares.
				if bu, err := url.Parse(bb.URL); err == nil && bu.Hostname() != "" {
					bb.URL = bu.Scheme + "://" + bu.Hostname() + "/" + UploadPath
				} else {
					bb.URL = s.url(bb.URL)
				}
				repl[m.key] = marshal(bb)
			}
		}
	}
	return []byte(s.text(string(splice(raw, ms, repl))))
}

// scrubReply normalises a 200 proxy reply: volatile and secret upstream
// headers, and binary_data (its signed URL becomes a stable cassette URL
// derived from the call, its expiry FixedExpiry). data is not touched
// except by value-based scrubbing.
func (s *scrubber) scrubReply(raw []byte, c *call) []byte {
	ms := members(raw)
	repl := make(map[string][]byte)
	for _, m := range ms {
		v := raw[m.start:m.end]
		switch m.key {
		case "headers":
			var h map[string]string
			if json.Unmarshal(v, &h) != nil {
				continue
			}
			for k := range h {
				canon := http.CanonicalHeaderKey(k)
				switch {
				case secretHeader(k):
					h[k] = Redacted
				case s.volatile(canon):
					h[k] = volatileValue(canon)
				}
			}
			repl[m.key] = marshal(h)
		case "binary_data":
			var bd composiohttp.BinaryData
			if json.Unmarshal(v, &bd) != nil || bd.URL == "" {
				continue
			}
			if !strings.HasPrefix(bd.URL, BinaryBaseURL+"/") {
				key := c.method + " " + c.endpoint + " " + joinParams(c.params) + " " + c.body + " " + c.account
				sum := sha256.Sum256([]byte(key))
				stable := BinaryBaseURL + "/" + hex.EncodeToString(sum[:8])
				orig := bd.URL
				if pu, err := url.Parse(orig); err == nil {
					orig = pu.String() // as the download request's URL will read
				}
				s.mu.Lock()
				s.binary[orig] = stable
				s.mu.Unlock()
				bd.URL = stable
			}
			if bd.ExpiresAt != "" {
				bd.ExpiresAt = FixedExpiry
			}
			repl[m.key] = marshal(bd)
		}
	}
	return splice(raw, ms, repl)
}
