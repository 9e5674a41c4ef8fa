package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/composiohttp/composiohttp"
)

// side is one proxy the scenarios run against: the service the user
// names, or the fake.
type side struct {
	name    string
	baseURL string
	apiKey  string
	account string
	rt      http.RoundTripper // to the proxy and the signed URLs
}

// config is what every scenario reads.
type config struct {
	target      *url.URL // the upstream the scenarios call (no query)
	allowWrites bool
	inactive    string // an account id that exists and is not ACTIVE
	sessionUser string
	sessionKit  string
}

// scenario is one documented behaviour, observed on each side.
type scenario struct {
	name  string
	doc   string
	write bool // sends something other than GET or HEAD upstream
	// skip, if set, returns why the scenario cannot run with this
	// configuration ("" to run).
	skip func(c *config) string
	run  func(ctx context.Context, c *config, s *side) *obs
}

// Names used by the scenarios.
const (
	unknownAccount = "ca_conformance_unknown_0000"
	invalidKey     = "ak_conformance_invalid_key_0000"
	mismatchOrigin = "https://conformance-origin-mismatch.invalid/x"
)

// target returns the target URL with query q.
func (c *config) url(q string) string {
	u := *c.target
	u.RawQuery = q
	return u.String()
}

func newRequest(method, u string, body []byte, header ...string) *http.Request {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	r, err := http.NewRequest(method, u, rd)
	if err != nil {
		panic(err) // the scenarios build valid requests
	}
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Add(header[i], header[i+1])
	}
	return r
}

// through sends req through a composiohttp.Transport on s and observes
// the proxy reply, the downloads and the result. tweak may change the
// Transport; show names response headers to report.
func (s *side) through(ctx context.Context, req *http.Request, tweak func(*composiohttp.Transport), show ...string) *obs {
	cp := &capture{next: s.rt}
	tr := &composiohttp.Transport{APIKey: s.apiKey, BaseURL: s.baseURL, ConnectedAccountID: s.account, Base: cp}
	if tweak != nil {
		tweak(tr)
	}
	resp, err := tr.RoundTrip(req.WithContext(ctx))
	var body []byte
	if err == nil {
		body, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	o := newObs()
	ex := cp.all()
	for _, e := range ex {
		if isAPIPath(e.path) {
			o.observeProxy(e)
			break
		}
	}
	o.observeResult(resp, body, err, show)
	o.observeDownloads(ex)
	return o
}

// raw sends a request straight to s's API (method, path under the base
// URL, a JSON body) with key, and observes the reply.
func (s *side) raw(ctx context.Context, method, path string, body any, key string) (*obs, exchange) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(s.baseURL, "/")+path, rd)
	o := newObs()
	if err != nil {
		o.set("result", "bad request: "+err.Error())
		return o, exchange{}
	}
	req.Header.Set("Content-Type", "application/json")
	if strings.HasPrefix(key, "uak_") {
		req.Header.Set("X-User-Api-Key", key)
	} else {
		req.Header.Set("X-Api-Key", key)
	}
	cp := &capture{next: s.rt}
	resp, err := cp.RoundTrip(req)
	if err != nil {
		o.set("result", "transport error")
		return o, exchange{}
	}
	resp.Body.Close()
	e := cp.all()[0]
	o.observeProxy(e)
	return o, e
}

// absentEndpoint reports whether a reply says the API path does not exist
// (404 without the shape of a known resource error).
func absentEndpoint(e exchange) bool {
	if e.status != http.StatusNotFound && e.status != http.StatusMethodNotAllowed {
		return false
	}
	var top struct {
		Error struct {
			Slug string `json:"slug"`
		} `json:"error"`
	}
	json.Unmarshal(e.body, &top)
	switch top.Error.Slug {
	case "", "NotFound", "RouteNotFound", "MethodNotAllowed":
		return true
	}
	return false
}

func needWrites(c *config) string {
	if !c.allowWrites {
		return "sends a write upstream; run with -allow-writes against a target that accepts it"
	}
	return ""
}

// scenarios is the list, in the order they run and are reported.
func scenarios() []scenario {
	methodScenario := func(method string, write bool) scenario {
		sc := scenario{
			name: "method " + method, write: write,
			doc: method + " reaches the upstream with its method, and the reply comes back",
			run: func(ctx context.Context, c *config, s *side) *obs {
				var body []byte
				var hdr []string
				if method != http.MethodGet && method != http.MethodHead && method != http.MethodDelete {
					body, hdr = []byte(`{"case":"`+strings.ToLower(method)+`"}`), []string{"Content-Type", "application/json"}
				}
				return s.through(ctx, newRequest(method, c.url("case=method"), body, hdr...), nil, "Content-Type")
			},
		}
		if write {
			sc.skip = needWrites
		}
		return sc
	}
	list := []scenario{
		methodScenario(http.MethodGet, false),
		methodScenario(http.MethodHead, false),
		methodScenario(http.MethodPost, true),
		methodScenario(http.MethodPut, true),
		methodScenario(http.MethodPatch, true),
		methodScenario(http.MethodDelete, true),
		{
			name: "query parameters, repeated", doc: "query values reach the upstream in order, repeated and empty ones included",
			run: func(ctx context.Context, c *config, s *side) *obs {
				return s.through(ctx, newRequest("GET", c.url("case=query&a=1&a=2&empty=&sp=a%20b&u=%C3%A9"), nil), nil)
			},
		},
		{
			name: "header parameters, repeated", doc: "request headers reach the upstream, repeated ones included",
			run: func(ctx context.Context, c *config, s *side) *obs {
				return s.through(ctx, newRequest("GET", c.url("case=headers"), nil,
					"X-Conf-Repeat", "one", "X-Conf-Repeat", "two", "X-Conf-Single", "value with spaces"), nil)
			},
		},
		{
			name: "JSON body with falsy fields", write: true, skip: needWrites,
			doc: "a JSON body reaches the upstream byte for byte, false, 0, {}, [], null and \"\" included (Composio issue #3324 reported them dropped)",
			run: func(ctx context.Context, c *config, s *side) *obs {
				return s.through(ctx, newRequest("POST", c.url("case=falsy"),
					[]byte(`{"false":false,"zero":0,"object":{},"array":[],"null":null,"string":"","nested":{"f":false}}`),
					"Content-Type", "application/json"), nil)
			},
		},
		{
			name: "JSON body as binary_body", write: true, skip: needWrites,
			doc: "Transport.JSONAsBinary sends JSON as binary_body, byte for byte",
			run: func(ctx context.Context, c *config, s *side) *obs {
				return s.through(ctx, newRequest("POST", c.url("case=json-as-binary"),
					[]byte("{\"false\":false, \"zero\":0,\n \"object\":{}}"), "Content-Type", "application/json"),
					func(t *composiohttp.Transport) { t.JSONAsBinary = true })
			},
		},
		{
			name: "binary upload, base64", write: true, skip: needWrites,
			doc: "a binary body goes as binary_body.base64; the echo comes back as binary_data and downloads",
			run: func(ctx context.Context, c *config, s *side) *obs {
				return s.through(ctx, newRequest("POST", c.url("case=upload"), binaryReply[:256],
					"Content-Type", "application/octet-stream"), nil, "Content-Type")
			},
		},
		{
			name: "binary upload, by URL", write: true, skip: needWrites,
			doc: "binary_body.url is fetched by the proxy and sent upstream",
			run: func(ctx context.Context, c *config, s *side) *obs {
				o, _ := s.raw(ctx, "POST", "/api/v3.1/tools/execute/proxy", map[string]any{
					"connected_account_id": s.account, "endpoint": c.url(""), "method": "POST",
					"binary_body": map[string]string{"url": c.url("reply=binary"), "content_type": "application/octet-stream"},
				}, s.apiKey)
				return o
			},
		},
		{
			name: "binary download", doc: "a binary reply arrives as binary_data behind a signed URL and downloads without the API key",
			run: func(ctx context.Context, c *config, s *side) *obs {
				return s.through(ctx, newRequest("GET", c.url("reply=binary"), nil), nil, "Content-Type")
			},
		},
		{
			name: "text reply", doc: "a text reply arrives as a JSON string and comes back as its text",
			run: func(ctx context.Context, c *config, s *side) *obs {
				return s.through(ctx, newRequest("GET", c.url("reply=text"), nil), nil, "Content-Type")
			},
		},
		{
			name: "multi-value response headers", doc: "repeated upstream response headers arrive joined in one string",
			run: func(ctx context.Context, c *config, s *side) *obs {
				return s.through(ctx, newRequest("GET", c.url("reply=headers"), nil), nil, "Link", "X-Conf-Multi")
			},
		},
		{
			name: "upstream 404 inside a 200", doc: "an upstream 4xx is a 200 envelope with its status, not a proxy error",
			run: func(ctx context.Context, c *config, s *side) *obs {
				return s.through(ctx, newRequest("GET", c.url("reply=status&code=404"), nil), nil)
			},
		},
		{
			name: "upstream 500 inside a 200", doc: "an upstream 5xx is a 200 envelope with its status, not a proxy error",
			run: func(ctx context.Context, c *config, s *side) *obs {
				return s.through(ctx, newRequest("GET", c.url("reply=status&code=500"), nil), nil)
			},
		},
		{
			name: "OriginMismatch", doc: "an absolute endpoint on another registrable domain is a 400 OriginMismatch; nothing is sent there",
			run: func(ctx context.Context, c *config, s *side) *obs {
				return s.through(ctx, newRequest("GET", mismatchOrigin, nil), nil)
			},
		},
		{
			name: "MissingAuthContext", doc: "an envelope with neither connected_account_id nor custom_connection_data is a 400 MissingAuthContext",
			run: func(ctx context.Context, c *config, s *side) *obs {
				o, _ := s.raw(ctx, "POST", "/api/v3.1/tools/execute/proxy", map[string]any{"endpoint": c.url(""), "method": "GET"}, s.apiKey)
				return o
			},
		},
		{
			name: "unknown account", doc: "an account id that does not exist is a 404",
			run: func(ctx context.Context, c *config, s *side) *obs {
				return s.through(ctx, newRequest("GET", c.url("case=unknown-account"), nil),
					func(t *composiohttp.Transport) { t.ConnectedAccountID = unknownAccount })
			},
		},
		{
			name: "inactive account", doc: "an account that is not ACTIVE is refused (422)",
			skip: func(c *config) string {
				if c.inactive == "" {
					return "no inactive account given (-inactive-account)"
				}
				return ""
			},
			run: func(ctx context.Context, c *config, s *side) *obs {
				return s.through(ctx, newRequest("GET", c.url("case=inactive-account"), nil),
					func(t *composiohttp.Transport) { t.ConnectedAccountID = c.inactive })
			},
		},
		{
			name: "invalid API key", doc: "a wrong API key is a 401",
			run: func(ctx context.Context, c *config, s *side) *obs {
				return s.through(ctx, newRequest("GET", c.url("case=invalid-key"), nil),
					func(t *composiohttp.Transport) { t.APIKey = invalidKey })
			},
		},
		{
			name: "rate-limit headers", doc: "every API reply carries X-RateLimit, X-RateLimit-Remaining, X-RateLimit-Window-Size",
			run: func(ctx context.Context, c *config, s *side) *obs {
				cp := &capture{next: s.rt}
				tr := &composiohttp.Transport{APIKey: s.apiKey, BaseURL: s.baseURL, ConnectedAccountID: s.account, Base: cp}
				resp, err := tr.RoundTrip(newRequest("GET", c.url("case=rate-limit"), nil).WithContext(ctx))
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				o := newObs()
				for _, e := range cp.all() {
					if isAPIPath(e.path) {
						o.observeRateLimit(e)
						break
					}
				}
				if len(o.keys) == 0 {
					o.set("result", errorKind(err))
				}
				return o
			},
		},
		{
			name: "connected accounts listing", doc: "GET /api/v3.1/connected_accounts lists accounts (items, next_cursor, total_items); read-only",
			run: func(ctx context.Context, c *config, s *side) *obs {
				o, e := s.raw(ctx, "GET", "/api/v3.1/connected_accounts?limit=1", nil, s.apiKey)
				if absentEndpoint(e) {
					o.absent = fmt.Sprintf("GET /api/v3.1/connected_accounts answers %d: the endpoint is absent", e.status)
					return o
				}
				var top map[string]json.RawMessage
				if e.status == http.StatusOK && json.Unmarshal(e.body, &top) == nil {
					o.set("listing.keys", keysOf(top))
					var items []map[string]json.RawMessage
					if json.Unmarshal(top["items"], &items) == nil && len(items) > 0 {
						o.set("listing.items[0].keys", keysOf(items[0]))
					}
				}
				return o
			},
		},
		{
			name: "session proxy", write: true,
			doc: "a tool-router session (POST /api/v3.1/tool_router/session) has its own proxy_execute, taking toolkit_slug",
			skip: func(c *config) string {
				if r := needWrites(c); r != "" {
					return "creates a tool-router session; run with -allow-writes"
				}
				return ""
			},
			run: func(ctx context.Context, c *config, s *side) *obs {
				o, e := s.raw(ctx, "POST", "/api/v3.1/tool_router/session", map[string]any{"user_id": c.sessionUser}, s.apiKey)
				if absentEndpoint(e) {
					o.absent = fmt.Sprintf("POST /api/v3.1/tool_router/session answers %d: the endpoint is absent", e.status)
					return o
				}
				// The reply's session_id, per Composio's generated client
				// (composio-base-py, types/tool_router/session_create_response.py);
				// id as a fallback.
				var sess struct {
					ID        string `json:"id"`
					SessionID string `json:"session_id"`
				}
				if json.Unmarshal(e.body, &sess) != nil || (sess.ID == "" && sess.SessionID == "") {
					return o
				}
				id := sess.SessionID
				if id == "" {
					id = sess.ID
				}
				po, pe := s.raw(ctx, "POST", "/api/v3.1/tool_router/session/"+url.PathEscape(id)+"/proxy_execute",
					map[string]any{"toolkit_slug": c.sessionKit, "endpoint": c.url("case=session"), "method": "GET"}, s.apiKey)
				if absentEndpoint(pe) {
					po.absent = fmt.Sprintf("POST .../proxy_execute answers %d: the endpoint is absent", pe.status)
				}
				for _, k := range po.keys {
					o.set("session_proxy."+k, po.vals[k])
				}
				o.absent = po.absent
				return o
			},
		},
	}
	return append(list, fidelityScenarios()...)
}
