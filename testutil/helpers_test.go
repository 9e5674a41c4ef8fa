package testutil_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/testutil"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const proxyPath = "/api/v3.1/tools/execute/proxy"

// reply is what the fake answered to a raw proxy call.
type reply struct {
	status int
	header http.Header
	body   []byte
	env    composiohttp.ProxyResponse
	err    composiohttp.ErrorBody
}

// call posts env (a string is sent as is, anything else as JSON) to the
// fake's proxy path with its API key; mods may change the request.
func call(t *testing.T, s *testutil.Server, env any, mods ...func(*http.Request)) reply {
	t.Helper()
	return callCtx(t, context.Background(), s, env, mods...)
}

func callCtx(t *testing.T, ctx context.Context, s *testutil.Server, env any, mods ...func(*http.Request)) reply {
	t.Helper()
	var body []byte
	switch v := env.(type) {
	case string:
		body = []byte(v)
	default:
		var err error
		if body, err = json.Marshal(v); err != nil {
			t.Fatal(err)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+proxyPath, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Api-Key", s.APIKey)
	for _, m := range mods {
		m(req)
	}
	res, err := rawClient(s).Do(req)
	if err != nil {
		t.Fatalf("proxy call: %v", err)
	}
	defer res.Body.Close()
	r := reply{status: res.StatusCode, header: res.Header}
	if r.body, err = io.ReadAll(res.Body); err != nil {
		t.Fatal(err)
	}
	if res.StatusCode == http.StatusOK {
		if err := json.Unmarshal(r.body, &r.env); err != nil {
			t.Fatalf("200 reply is not an envelope: %v\n%s", err, r.body)
		}
	} else if strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		var e composiohttp.ErrorResponse
		if err := json.Unmarshal(r.body, &e); err != nil {
			t.Fatalf("error reply: %v\n%s", err, r.body)
		}
		r.err = e.Error
	}
	return r
}

// rawClient talks HTTP to the fake itself, not through the Transport.
func rawClient(s *testutil.Server) *http.Client {
	return &http.Client{Transport: s.Transport().Base}
}

// checkError asserts an error reply's status, slug and real shape; want,
// if not empty, must be a substring of one of errors[].
func checkError(t *testing.T, r reply, status int, slug, want string) {
	t.Helper()
	if r.status != status || r.err.Slug != slug {
		t.Fatalf("got %d %q, want %d %q\n%s", r.status, r.err.Slug, status, slug, r.body)
	}
	if r.err.Status != status || r.err.Code != 10000+status || r.err.Message == "" {
		t.Errorf("error body status %d code %d message %q", r.err.Status, r.err.Code, r.err.Message)
	}
	if id := r.header.Get("X-Request-Id"); id == "" || r.err.RequestID != id {
		t.Errorf("request id: header %q, body %q", id, r.err.RequestID)
	}
	if want == "" {
		return
	}
	for _, e := range r.err.Errors {
		if strings.Contains(e, want) {
			return
		}
	}
	t.Errorf("errors %q do not mention %q", r.err.Errors, want)
}

// echo is an upstream that answers with a JSON description of the request
// it got.
type echoed struct {
	Method string
	URL    string
	Host   string
	Header http.Header
	Body   string
}

var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(echoed{Method: r.Method, URL: r.URL.String(), Host: r.Host, Header: r.Header, Body: string(b)})
})

func decodeEcho(t *testing.T, r reply) echoed {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	var e echoed
	if err := json.Unmarshal(r.env.Data, &e); err != nil {
		t.Fatalf("data: %v\n%s", err, r.body)
	}
	return e
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *fakeClock { return &fakeClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// github returns a fake with an OAuth2 account "ca_github" served by h.
func github(t *testing.T, h http.Handler, opts ...testutil.Option) *testutil.Server {
	t.Helper()
	s := testutil.NewServer(t, opts...)
	s.AddAccount(testutil.Account{
		ID: "ca_github", Toolkit: "github", AuthScheme: credentials.OAuth2,
		Val:     credentials.Val{AccessToken: "gho_secret"},
		BaseURL: "https://api.github.com", Handler: h,
	})
	return s
}

func get(endpoint string) map[string]any {
	return map[string]any{"connected_account_id": "ca_github", "endpoint": endpoint, "method": "GET"}
}
