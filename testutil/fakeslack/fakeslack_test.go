package fakeslack_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/composiohttp/composiohttp/testutil/fakeslack"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestWebAPI(t *testing.T) {
	t.Parallel()
	ws := fakeslack.New("Acme", "xoxb-1")
	const form, js = "application/x-www-form-urlencoded", "application/json"
	tests := []struct {
		name, method, path, auth, ct, body string
		want                               string // substring of the reply
	}{
		{"no token", "POST", "/api/auth.test", "", form, "", `"error":"not_authed"`},
		{"wrong bearer", "POST", "/api/auth.test", "Bearer xoxb-2", form, "", `"error":"invalid_auth"`},
		{"placeholder in the form next to the right bearer", "POST", "/api/auth.test", "Bearer xoxb-1", form, "token=composio", `"error":"invalid_auth"`},
		{"empty token in the form", "POST", "/api/auth.test", "Bearer xoxb-1", form, "token=", `"error":"invalid_auth"`},
		{"token in the query", "GET", "/api/auth.test?token=xoxb-1", "", "", "", `"team":"Acme"`},
		{"auth.test", "POST", "/api/auth.test", "Bearer xoxb-1", form, "", `"ok":true`},
		{"post form", "POST", "/api/chat.postMessage", "Bearer xoxb-1", form, "channel=%23general&text=one", `"ts":"1700000000.000100"`},
		{"post JSON", "POST", "/api/chat.postMessage", "Bearer xoxb-1", js, `{"channel":"C0GENERAL","text":"two"}`, `"channel":"C0GENERAL"`},
		{"no text", "POST", "/api/chat.postMessage", "Bearer xoxb-1", form, "channel=general", `"error":"no_text"`},
		{"unknown channel", "POST", "/api/chat.postMessage", "Bearer xoxb-1", form, "channel=nope&text=x", `"error":"channel_not_found"`},
		{"history, newest first", "POST", "/api/conversations.history", "Bearer xoxb-1", form, "channel=C0GENERAL", `"messages":[{"type":"message","user":"U0BOT","text":"two"`},
		{"list", "GET", "/api/conversations.list", "Bearer xoxb-1", "", "", `"name":"random"`},
		{"unknown method", "POST", "/api/files.upload", "Bearer xoxb-1", form, "", `"error":"unknown_method"`},
		{"bad JSON", "POST", "/api/chat.postMessage", "Bearer xoxb-1", js, `{`, `"error":"invalid_form_data"`},
	}
	for _, tt := range tests { // in order: the history sees the posts
		req := httptest.NewRequest(tt.method, "https://slack.com"+tt.path, strings.NewReader(tt.body))
		if tt.auth != "" {
			req.Header.Set("Authorization", tt.auth)
		}
		if tt.ct != "" {
			req.Header.Set("Content-Type", tt.ct)
		}
		w := httptest.NewRecorder()
		ws.ServeHTTP(w, req)
		if w.Code != 200 || !strings.Contains(w.Body.String(), tt.want) || !json.Valid(w.Body.Bytes()) {
			t.Errorf("%s: %d %s, want %s", tt.name, w.Code, w.Body, tt.want)
		}
	}
	if got := ws.Messages("#general"); len(got) != 2 || got[0].Text != "one" {
		t.Errorf("messages %+v", got)
	}
	a := ws.Account("ca_1")
	if a.Toolkit != "slack" || a.Val.AccessToken != "xoxb-1" || a.BaseURL != fakeslack.BaseURL || a.Handler != http.Handler(ws) {
		t.Errorf("Account = %+v", a)
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		if s := fmt.Sprintf(verb, ws); strings.Contains(s, "xoxb-1") || strings.Contains(s, fmt.Sprintf("%x", "xoxb-1")) {
			t.Errorf("%s shows the token: %s", verb, s)
		}
	}
}

// The handler called directly with a request built by http.NewRequest
// without a body (Body nil, which a server never passes) panicked reading
// it; it now answers as for an empty body. So does a Workspace built by
// hand, which has no token: every call is invalid_auth.
func TestHandBuiltRequestAndWorkspace(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		w    *fakeslack.Workspace
		auth string
		want string
	}{
		{"no body, no token", fakeslack.New("Acme", "xoxb-1"), "", `"error":"not_authed"`},
		{"no body, token", fakeslack.New("Acme", "xoxb-1"), "Bearer xoxb-1", `"ok":true`},
		{"zero Workspace", &fakeslack.Workspace{}, "Bearer xoxb-1", `"error":"invalid_auth"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req, _ := http.NewRequest(http.MethodGet, fakeslack.BaseURL+"/auth.test", nil)
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			rec := httptest.NewRecorder()
			tc.w.ServeHTTP(rec, req)
			if !strings.Contains(rec.Body.String(), tc.want) {
				t.Errorf("reply %s, want %s", rec.Body, tc.want)
			}
		})
	}
}
