package testutil_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/composiohttp/composiohttp/testutil"
)

// TestOrgLimitHeaders: every reply of an API path carries Composio's
// rate-limit headers; Remaining counts the requests with a valid key down.
func TestOrgLimitHeaders(t *testing.T) {
	t.Parallel()
	clock := newClock()
	s := github(t, echo, testutil.WithClock(clock.Now), testutil.WithOrgLimit(5, time.Minute))
	tests := []struct {
		name          string
		env           any
		mod           func(*http.Request)
		status        int
		wantRemaining string
	}{
		{"ok", get("/user"), nil, 200, "4"},
		{"validation error", `{"method":"GET"}`, nil, 400, "3"},
		{"unknown account", map[string]any{"connected_account_id": "ca_nope", "endpoint": "/x", "method": "GET"}, nil, 404, "2"},
		{"bad key: not counted", get("/user"), func(r *http.Request) { r.Header.Set("X-Api-Key", "ak_wrong") }, 401, "2"},
		{"ok again", get("/user"), nil, 200, "1"},
	}
	for _, tt := range tests { // in order: the count carries over
		var mods []func(*http.Request)
		if tt.mod != nil {
			mods = append(mods, tt.mod)
		}
		r := call(t, s, tt.env, mods...)
		if r.status != tt.status {
			t.Fatalf("%s: status %d, want %d: %s", tt.name, r.status, tt.status, r.body)
		}
		h := r.header
		if h.Get("X-RateLimit") != "5" || h.Get("X-RateLimit-Remaining") != tt.wantRemaining || h.Get("X-RateLimit-Window-Size") != "60s" {
			t.Errorf("%s: headers %q %q %q, want 5 %s 60s", tt.name,
				h.Get("X-RateLimit"), h.Get("X-RateLimit-Remaining"), h.Get("X-RateLimit-Window-Size"), tt.wantRemaining)
		}
	}
	// Another path is an API path too; the signed binary URLs are not.
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/api/v3.1/unknown", nil)
	req.Header.Set("X-Api-Key", s.APIKey)
	res, err := rawClient(s).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 404 || res.Header.Get("X-RateLimit-Remaining") != "0" {
		t.Errorf("unknown path: %d remaining %q", res.StatusCode, res.Header.Get("X-RateLimit-Remaining"))
	}
	res, err = rawClient(s).Get(s.URL + "/binary/x")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if v := res.Header.Get("X-RateLimit"); v != "" {
		t.Errorf("binary URL carries X-RateLimit %q", v)
	}
}

// TestOrgLimit429: past the limit, a 429 with Retry-After until the window
// ends and the flat body; the next window starts afresh.
func TestOrgLimit429(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		limit  int
		window time.Duration
		advance,
		wantRetry time.Duration // clock starts at 03:04:05
		wantMsg string
	}{
		{"per minute", 2, time.Minute, 0, 55 * time.Second, "Rate limit exceeded. Limit: 2 requests per 1 minute"},
		{"per 10 minutes", 3, 10 * time.Minute, 0, 55*time.Second + 5*time.Minute, "Rate limit exceeded. Limit: 3 requests per 10 minutes"},
		{"last second rounds up", 1, time.Minute, 54*time.Second + 500*time.Millisecond, time.Second, "Rate limit exceeded. Limit: 1 requests per 1 minute"},
		{"seconds", 1, 30 * time.Second, 0, 25 * time.Second, "Rate limit exceeded. Limit: 1 requests per 30 seconds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clock := newClock()
			clock.Advance(tt.advance)
			s := github(t, echo, testutil.WithClock(clock.Now), testutil.WithOrgLimit(tt.limit, tt.window))
			for i := range tt.limit {
				if r := call(t, s, get("/user")); r.status != 200 || r.header.Get("X-RateLimit-Remaining") != strconv.Itoa(tt.limit-i-1) {
					t.Fatalf("call %d: %d remaining %q", i, r.status, r.header.Get("X-RateLimit-Remaining"))
				}
			}
			r := call(t, s, get("/user"))
			if r.status != 429 {
				t.Fatalf("status %d, want 429: %s", r.status, r.body)
			}
			var body map[string]any
			if err := json.Unmarshal(r.body, &body); err != nil || len(body) != 1 || body["message"] != tt.wantMsg {
				t.Errorf("body %s, want the flat {\"message\": %q}", r.body, tt.wantMsg)
			}
			if got := r.header.Get("Retry-After"); got != strconv.Itoa(int(tt.wantRetry/time.Second)) {
				t.Errorf("Retry-After %q, want %v", got, tt.wantRetry)
			}
			if r.header.Get("X-RateLimit-Remaining") != "0" || r.header.Get("Content-Type") != "application/json" {
				t.Errorf("headers %v", r.header)
			}
			recs := s.Requests()
			if last := recs[len(recs)-1]; last.Status != 429 || last.Body != nil {
				t.Errorf("recorded %d %q, want 429 and no body", last.Status, last.Body)
			}
			clock.Advance(tt.wantRetry)
			if r := call(t, s, get("/user")); r.status != 200 || r.header.Get("X-RateLimit-Remaining") != strconv.Itoa(tt.limit-1) {
				t.Errorf("next window: %d remaining %q", r.status, r.header.Get("X-RateLimit-Remaining"))
			}
		})
	}
}

// TestOrgLimitDefault: without WithOrgLimit, the default limit is reported
// but never enforced.
func TestOrgLimitDefault(t *testing.T) {
	t.Parallel()
	s := github(t, echo)
	r := call(t, s, get("/user"))
	if r.header.Get("X-RateLimit") != strconv.Itoa(testutil.DefaultOrgLimit) ||
		r.header.Get("X-RateLimit-Remaining") != strconv.Itoa(testutil.DefaultOrgLimit-1) ||
		r.header.Get("X-RateLimit-Window-Size") != "600s" {
		t.Errorf("headers %v", r.header)
	}
	s.ExhaustOrgLimit()
	if r := call(t, s, get("/user")); r.status != 200 || r.header.Get("X-RateLimit-Remaining") != "0" {
		t.Errorf("exhausted default: %d remaining %q", r.status, r.header.Get("X-RateLimit-Remaining"))
	}
}

// TestExhaustOrgLimit: the scenario refuses the next call until the
// window ends; Reset forgets the count.
func TestExhaustOrgLimit(t *testing.T) {
	t.Parallel()
	clock := newClock()
	s := github(t, echo, testutil.WithClock(clock.Now), testutil.WithOrgLimit(100, time.Minute))
	s.ExhaustOrgLimit()
	if r := call(t, s, get("/user")); r.status != 429 || r.header.Get("Retry-After") != "55" {
		t.Fatalf("after ExhaustOrgLimit: %d Retry-After %q", r.status, r.header.Get("Retry-After"))
	}
	s.Reset()
	if r := call(t, s, get("/user")); r.status != 200 || r.header.Get("X-RateLimit-Remaining") != "99" {
		t.Errorf("after Reset: %d remaining %q", r.status, r.header.Get("X-RateLimit-Remaining"))
	}
}
