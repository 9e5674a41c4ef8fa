package testutil

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/composiohttp/composiohttp/internal/httpurl"

	"github.com/composiohttp/composiohttp/credentials"
)

// Expectations: upstream responders registered by method and URL pattern
// (Server.On), in the manner of jarcoal/httpmock, and assertions on the
// upstream calls the fake made (Server.Calls, CallCount, LastCall).
//
// A URL pattern is an absolute URL or a path, whose path follows
// net/http.ServeMux's pattern syntax: "{name}" matches one path segment
// (read it in a RespondWith handler with r.PathValue("name")), "{name...}"
// the rest of the path, "{$}" only the end of the path, and a trailing
// slash any path below it. An absolute URL also requires its scheme and
// host (the port as well, if it gives one); a path matches any host. A
// query string in the pattern requires each of its values to be among the
// request's ("?state=open" matches "?per_page=5&state=open"). An empty
// method matches any method; "GET" also matches HEAD, as in ServeMux.
//
//	srv.On("GET", "https://api.github.com/repos/{owner}/{repo}").RespondJSON(200, map[string]any{"id": 1})
//	srv.On("POST", "/chat.postMessage").Respond(200, `{"ok":true}`)
//	...
//	if n := srv.CallCount("GET", "https://api.github.com/repos/{owner}/{repo}"); n != 1 { ... }

// expectations are a Server's routes and recorded upstream calls.
type expectations struct {
	mu     sync.Mutex
	routes []*Route                 // newest first
	calls  boundedLog[UpstreamCall] // reqlog.go
}

func (e *expectations) resetCalls() {
	e.mu.Lock()
	e.calls.reset()
	e.mu.Unlock()
}

// Route is an upstream responder registered with Server.On. It answers
// 200 with an empty body until told otherwise. Its methods are safe for
// concurrent use and may be called after calls have started.
type Route struct {
	method, pattern string
	match           *pattern

	mu      sync.Mutex
	status  int
	header  http.Header
	body    []byte
	handler http.Handler
	calls   int
}

// On registers a route that answers the fake's upstream requests whose
// method and URL match method and urlPattern (see the pattern rules
// above), and returns it for Respond, RespondJSON or RespondWith. Routes
// are consulted before an account's Handler, AddUpstream handlers and the
// network, for the upstream calls of proxy requests (not for
// binary_body.url fetches: use AddUpstream for those); when several
// routes match, the one registered last answers. The request a route
// answers carries the account's credentials, as the real upstream's
// would. On panics if urlPattern is not a valid pattern.
func (s *Server) On(method, urlPattern string) *Route {
	r := &Route{method: method, pattern: urlPattern, match: mustPattern("On", method, urlPattern), status: http.StatusOK}
	r.match.target.h = r
	s.exp.mu.Lock()
	s.exp.routes = slices.Insert(s.exp.routes, 0, r)
	s.exp.mu.Unlock()
	return r
}

// Respond makes the route answer status with body, and no Content-Type
// unless Header sets one (the fake then wraps valid JSON as data and
// other UTF-8 text as a string).
func (r *Route) Respond(status int, body string) *Route {
	r.mu.Lock()
	r.status, r.body, r.handler = status, []byte(body), nil
	r.mu.Unlock()
	return r
}

// RespondJSON makes the route answer status with v encoded by
// encoding/json, as application/json. It panics if v cannot be encoded.
func (r *Route) RespondJSON(status int, v any) *Route {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("testutil: RespondJSON %s %s: %v", r.method, r.pattern, err))
	}
	r.mu.Lock()
	r.status, r.body, r.handler = status, b, nil
	if r.header == nil {
		r.header = make(http.Header)
	}
	r.header.Set(headerContentType, contentTypeJSON)
	r.mu.Unlock()
	return r
}

// RespondWith makes h answer the route's requests; r.PathValue gives the
// pattern's wildcards. Headers set with Header are added before h runs.
func (r *Route) RespondWith(h http.Handler) *Route {
	r.mu.Lock()
	r.handler = h
	r.mu.Unlock()
	return r
}

// Header adds a header to the route's replies.
func (r *Route) Header(key, value string) *Route {
	r.mu.Lock()
	if r.header == nil {
		r.header = make(http.Header)
	}
	r.header.Add(key, value)
	r.mu.Unlock()
	return r
}

// Calls returns how many upstream requests the route answered.
func (r *Route) Calls() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls
}

// ServeHTTP answers req as configured; req.PathValue is set when the
// route's pattern matched it (Server.On's routes are served that way).
func (r *Route) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	r.calls++
	status, body, h := r.status, r.body, r.handler
	for k, v := range r.header {
		w.Header()[k] = slices.Clone(v)
	}
	r.mu.Unlock()
	if h != nil {
		h.ServeHTTP(w, req)
		return
	}
	w.WriteHeader(status)
	w.Write(body)
}

// route returns the handler of the newest route matching req, or nil.
func (e *expectations) route(req *http.Request) http.Handler {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, r := range e.routes {
		if r.match.matches(req.Method, req.URL) {
			return r.match.mux // serves r with req.PathValue set
		}
	}
	return nil
}

// UpstreamCall is one request the fake sent to an upstream for a proxy
// call, whoever answered it (a route, an account's Handler, an AddUpstream
// handler or the network). Credentials are hidden: the values of
// Authorization, Proxy-Authorization, Cookie, X-Api-Key and
// X-User-Api-Key are "[REDACTED]", and every occurrence of a secret of the
// connection (credentials Val.SecretValues) in the URL and the other
// headers is replaced by credentials.Redacted. Body is what the upstream
// was sent, as is.
type UpstreamCall struct {
	// Account is the connected account id, "" for custom_connection_data.
	Account string
	// Method and URL of the upstream request (URL absolute).
	Method string
	URL    string
	// Header holds the request headers, credentials hidden.
	Header http.Header
	// Body is the request body.
	Body []byte
	// Status is the upstream's status, 0 if it could not be reached or
	// did not answer in time.
	Status int
	// Time is when the call was made, by the fake's clock.
	Time time.Time
}

// Calls returns copies of the upstream calls whose method and URL match
// method and urlPattern (see the pattern rules above; "" and "/" match
// every call), in order, among the latest calls kept within the bounds of
// WithRequestLog (see Dropped). It panics if urlPattern is not a valid
// pattern.
func (s *Server) Calls(method, urlPattern string) []UpstreamCall {
	p := mustPattern("Calls", method, urlPattern)
	s.exp.mu.Lock()
	defer s.exp.mu.Unlock()
	var out []UpstreamCall
	for _, c := range s.exp.calls.all() {
		if u, err := url.Parse(c.URL); err == nil && p.matches(c.Method, u) {
			c.Header = c.Header.Clone()
			c.Body = slices.Clone(c.Body)
			out = append(out, c)
		}
	}
	return out
}

// CallCount returns how many upstream calls match method and urlPattern.
func (s *Server) CallCount(method, urlPattern string) int {
	return len(s.Calls(method, urlPattern))
}

// LastCall returns the latest upstream call matching method and
// urlPattern, and whether there was one.
func (s *Server) LastCall(method, urlPattern string) (UpstreamCall, bool) {
	calls := s.Calls(method, urlPattern)
	if len(calls) == 0 {
		return UpstreamCall{}, false
	}
	return calls[len(calls)-1], true
}

// credentialHeader reports whether k (canonical) is a header whose values
// the fake's upstream records (UpstreamCall, EchoRequest) hide whole:
// Authorization, Proxy-Authorization, Cookie, X-Api-Key, X-User-Api-Key.
func credentialHeader(k string) bool {
	switch k {
	case headerAuthorization, "Proxy-Authorization", headerCookie, headerAPIKey, headerUserAPIKey:
		return true
	}
	return false
}

// recordCall records an upstream call; status is 0 when there was no
// response.
func (s *Server) recordCall(account string, conn *credentials.Connection, req *http.Request, body []byte, status int) {
	secrets := conn.Val.SecretValues()
	h := make(http.Header, len(req.Header))
	for k, vs := range req.Header {
		out := make([]string, len(vs))
		for i, v := range vs {
			if credentialHeader(k) {
				out[i] = redacted
			} else {
				out[i] = credentials.Scrub(v, secrets...)
			}
		}
		h[k] = out
	}
	c := UpstreamCall{
		Account: account,
		Method:  req.Method,
		URL:     credentials.Scrub(shownURL(req.URL).String(), secrets...),
		Header:  h,
		Body:    body,
		Status:  status,
		Time:    s.cfg.now(),
	}
	s.exp.mu.Lock()
	s.exp.calls.add(c, c.size())
	s.exp.mu.Unlock()
}

// pattern is a compiled URL pattern: a one-route ServeMux for the method
// and path, plus the scheme, host and query the pattern requires.
type pattern struct {
	scheme, host, port string // "" = any
	query              url.Values
	mux                *http.ServeMux
	target             *patternTarget // what mux holds; identity marks a match
}

type patternTarget struct{ h http.Handler }

func (t *patternTarget) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if t.h != nil {
		t.h.ServeHTTP(w, r)
	}
}

func mustPattern(fn, method, raw string) *pattern {
	p, err := compilePattern(method, raw)
	if err != nil {
		panic(fmt.Sprintf("testutil: %s(%q, %q): %v", fn, method, raw, err))
	}
	return p
}

func compilePattern(method, raw string) (p *pattern, err error) {
	if strings.ContainsAny(method, " \t/") {
		return nil, fmt.Errorf("invalid method %q", method)
	}
	// Split off the query by hand: url.Parse would reject the braces of
	// wildcards in some positions, and the path must stay as written.
	rest, rawQuery, _ := strings.Cut(raw, "?")
	p = &pattern{}
	if rawQuery != "" {
		if p.query, err = url.ParseQuery(rawQuery); err != nil {
			return nil, err
		}
	}
	path := rest
	if i := strings.Index(rest, "://"); i >= 0 {
		p.scheme = strings.ToLower(rest[:i])
		hostPath := rest[i+3:]
		host, pth, found := strings.Cut(hostPath, "/")
		if host == "" {
			return nil, fmt.Errorf("no host")
		}
		path = "/" + pth
		if !found {
			path = "/{$}"
		}
		u, err := url.Parse(p.scheme + "://" + host)
		if err != nil {
			return nil, err
		}
		p.host, p.port = strings.ToLower(u.Hostname()), u.Port()
	}
	if path == "" {
		path = "/"
	}
	if path[0] != '/' {
		return nil, fmt.Errorf("the path must start with /")
	}
	muxPattern := path
	if method != "" {
		muxPattern = method + " " + path
	}
	t := &patternTarget{}
	p.target = t
	p.mux = http.NewServeMux()
	defer func() {
		if r := recover(); r != nil {
			p, err = nil, fmt.Errorf("%v", r)
		}
	}()
	p.mux.Handle(muxPattern, t)
	return p, nil
}

// matches reports whether a request with method and URL u (absolute)
// matches p.
func (p *pattern) matches(method string, u *url.URL) bool {
	if p.scheme != "" && !strings.EqualFold(u.Scheme, p.scheme) {
		return false
	}
	if p.host != "" {
		if !strings.EqualFold(u.Hostname(), p.host) {
			return false
		}
		if p.port != "" && httpurl.Port(u) != p.port {
			return false
		}
	}
	q := u.Query()
	for k, vs := range p.query {
		for _, v := range vs {
			if !slices.Contains(q[k], v) {
				return false
			}
		}
	}
	req := &http.Request{Method: method, URL: &url.URL{Path: u.Path, RawPath: u.RawPath}, Host: u.Host}
	if req.URL.Path == "" {
		req.URL.Path = "/"
	}
	h, _ := p.mux.Handler(req)
	t, ok := h.(*patternTarget)
	return ok && t == p.target
}
