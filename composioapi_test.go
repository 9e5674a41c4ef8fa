package composiohttp

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// apiStub is Composio's API answering every call with status and body,
// or failing with fail(r); it keeps each request and its body.
type apiStub struct {
	status int
	body   string
	fail   func(r *http.Request) error

	mu     sync.Mutex
	reqs   []*http.Request
	bodies []string
}

func (s *apiStub) RoundTrip(r *http.Request) (*http.Response, error) {
	var b []byte
	if r.Body != nil {
		b, _ = io.ReadAll(r.Body)
		r.Body.Close()
	}
	s.mu.Lock()
	s.reqs, s.bodies = append(s.reqs, r), append(s.bodies, string(b))
	s.mu.Unlock()
	if s.fail != nil {
		return nil, s.fail(r)
	}
	return reply(r, s.status, s.body), nil
}

// apiCallSites are the calls the Transport makes to Composio's own API
// (not the proxy). They follow one set of rules (composioapi.go), which
// TestComposioAPICallRules checks on each, so that the two cannot drift
// apart again (they did: the listing took only 200 where CreateSession
// took any 2xx, and dropped a query BaseURL carries, which CreateSession
// and the proxy call keep).
var apiCallSites = []struct {
	name   string
	method string
	path   string
	query  url.Values // the call's own query
	ok     string     // a valid reply
	limit  int64      // the most of a reply read
	call   func(ctx context.Context, tr *Transport) error
}{
	{
		name: "CreateSession", method: http.MethodPost, path: "/api/v3.1/tool_router/session",
		ok: `{"session_id":"trs_1","mcp":{"type":"http","url":"https://mcp.test/x"}}`, limit: 64 << 10,
		call: func(ctx context.Context, tr *Transport) error {
			id, err := tr.CreateSession(ctx, "u1", nil)
			if err == nil && id != "trs_1" {
				return errors.New("session id " + id)
			}
			return err
		},
	},
	{
		name: "connected accounts listing", method: http.MethodGet, path: "/api/v3.1/connected_accounts",
		query: url.Values{"user_ids": {"u1"}, "toolkit_slugs": {"github"}, "statuses": {"ACTIVE"}, "limit": {"100"}},
		ok:    page("", item("ca_1", "u1", "github", "ACTIVE")), limit: 8 << 20,
		call: func(ctx context.Context, tr *Transport) error {
			c := tr.config()
			if c.err != nil {
				return c.err
			}
			p, err := listAccounts(ctx, c, resolveKey{user: "u1", toolkit: "github"}, "")
			if err == nil && (len(p.Items) != 1 || p.Items[0].ID != "ca_1") {
				return errors.New("listing not decoded")
			}
			return err
		},
	},
}

func TestComposioAPICallRules(t *testing.T) {
	t.Parallel()
	const errBody = `{"error":{"message":"nope","slug":"Nope","status":%d}}`
	for _, site := range apiCallSites {
		t.Run(site.name, func(t *testing.T) {
			t.Parallel()
			tests := []struct {
				name    string
				status  int
				body    string
				baseURL string
				fail    func(r *http.Request) error
				cancel  bool
				// check looks at the error and what was sent.
				check func(t *testing.T, err error, s *apiStub)
			}{
				// Any 2xx is success, as in Composio's generated client
				// (composio-base-py src/composio_client/_base_client.py
				// raises only on 4xx and 5xx, for every endpoint).
				{name: "200", status: 200, body: site.ok, check: wantNoError},
				{name: "201", status: 201, body: site.ok, check: wantNoError},
				{name: "202", status: 202, body: site.ok, check: wantNoError},
				{name: "204 without a body", status: 204, check: func(t *testing.T, err error, _ *apiStub) {
					var pe *Error
					if !errors.Is(err, ErrMalformedEnvelope) || errors.As(err, &pe) {
						t.Errorf("err = %v, want ErrMalformedEnvelope, not an *Error", err)
					}
				}},
				{name: "302", status: 302, body: strings.Replace(errBody, "%d", "302", 1), check: wantStatus(302)},
				{name: "400", status: 400, body: strings.Replace(errBody, "%d", "400", 1), check: wantStatus(400)},
				{name: "500", status: 500, body: strings.Replace(errBody, "%d", "500", 1), check: wantStatus(500)},
				{name: "reply over the limit", status: 200, body: site.ok[:len(site.ok)-1] + `,"pad":"` + strings.Repeat("x", int(site.limit)) + `"}`,
					check: func(t *testing.T, err error, _ *apiStub) {
						if !errors.Is(err, ErrBodyTooLarge) {
							t.Errorf("err = %v, want ErrBodyTooLarge", err)
						}
					}},
				{name: "reply at the limit", status: 200, body: site.ok[:len(site.ok)-1] + `,"pad":"` + strings.Repeat("x", int(site.limit)-len(site.ok)-9) + `"}`,
					check: wantNoError},
				// BaseURL's query (a gateway's) is kept, as the proxy call
				// keeps it, byte for byte and before the call's own.
				{name: "BaseURL's query kept", status: 200, body: site.ok, baseURL: "https://backend.test/base?gw=1&tenant=a%2Fb",
					check: func(t *testing.T, err error, s *apiStub) {
						wantNoError(t, err, s)
						u := s.reqs[0].URL
						want := "gw=1&tenant=a%2Fb"
						if site.query != nil {
							want += "&" + site.query.Encode()
						}
						if u.RawQuery != want || u.Path != "/base"+site.path || u.Host != "backend.test" {
							t.Errorf("sent to %s, want path /base%s, query %s", u, site.path, want)
						}
					}},
				{name: "request", status: 200, body: site.ok, check: func(t *testing.T, err error, s *apiStub) {
					wantNoError(t, err, s)
					r := s.reqs[0]
					if r.Method != site.method || r.URL.Path != "/base"+site.path || r.URL.RawQuery != site.query.Encode() {
						t.Errorf("sent %s %s", r.Method, r.URL)
					}
					h := r.Header
					if h.Get("X-Api-Key") != "ak_k" || h.Get("Accept") != "application/json" || h.Get("X-Gw") != "g1" {
						t.Errorf("headers %v", h)
					}
					if ct := h.Get("Content-Type"); (site.method == http.MethodPost) != (ct == "application/json") {
						t.Errorf("Content-Type %q on a %s", ct, site.method)
					}
					if (site.method == http.MethodPost) != (s.bodies[0] != "") || r.ContentLength != int64(len(s.bodies[0])) {
						t.Errorf("body %q, ContentLength %d", s.bodies[0], r.ContentLength)
					}
				}},
				// A Base whose error quotes what it was sent shows none of
				// the secrets: the error is a *ProxyUnreachableError.
				{name: "Base fails quoting secrets", baseURL: "https://u:SECRET_pw@backend.test?token=SECRET_tok",
					fail: func(r *http.Request) error {
						return &url.Error{Op: r.Method, URL: r.URL.String(), Err: errors.New("reset; sent " + r.Header.Get("X-Api-Key"))}
					},
					check: func(t *testing.T, err error, _ *apiStub) {
						var pe *ProxyUnreachableError
						if !errors.As(err, &pe) || pe.Host != "backend.test" || CodeOf(err) != CodeUnreachable {
							t.Fatalf("err = %v (%T), want a *ProxyUnreachableError for backend.test", err, err)
						}
						for _, s := range []string{"SECRET_pw", "SECRET_tok", "ak_k"} {
							if strings.Contains(err.Error(), s) {
								t.Errorf("error shows %s: %v", s, err)
							}
						}
					}},
				{name: "caller's context canceled", cancel: true, fail: func(r *http.Request) error { return r.Context().Err() },
					check: func(t *testing.T, err error, _ *apiStub) {
						var pe *ProxyUnreachableError
						if !errors.Is(err, context.Canceled) || errors.As(err, &pe) {
							t.Errorf("err = %v, want context.Canceled", err)
						}
					}},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					t.Parallel()
					s := &apiStub{status: tt.status, body: tt.body, fail: tt.fail}
					tr := &Transport{APIKey: "ak_k", BaseURL: "https://backend.test/base", Base: s, Header: http.Header{"X-Gw": {"g1"}}}
					if tt.baseURL != "" {
						tr.BaseURL = tt.baseURL
					}
					ctx, cancel := context.WithCancel(context.Background())
					defer cancel()
					if tt.cancel {
						cancel()
					}
					err := site.call(ctx, tr)
					if len(s.reqs) != 1 {
						t.Fatalf("%d requests sent", len(s.reqs))
					}
					tt.check(t, err, s)
				})
			}
		})
	}
}

func wantNoError(t *testing.T, err error, _ *apiStub) {
	t.Helper()
	if err != nil {
		t.Fatalf("err = %v", err)
	}
}

func wantStatus(status int) func(t *testing.T, err error, _ *apiStub) {
	return func(t *testing.T, err error, _ *apiStub) {
		t.Helper()
		var pe *Error
		if !errors.As(err, &pe) || pe.StatusCode != status || pe.Slug != "Nope" || pe.Message != "nope" {
			t.Errorf("err = %v, want an *Error with status %d", err, status)
		}
	}
}
