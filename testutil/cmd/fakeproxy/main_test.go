package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/composiohttp/composiohttp/credentials"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestLoadAccountsTestdata(t *testing.T) {
	t.Parallel()
	f, err := os.Open("testdata/accounts.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	accounts, err := loadAccounts(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(accounts) != 4 {
		t.Fatalf("%d accounts", len(accounts))
	}
	a := accounts[0]
	if a.ID != "ca_github" || a.Toolkit != "github" || a.AuthScheme != credentials.OAuth2 ||
		a.Val.AccessToken != "gho_fake_token" || a.BaseURL != "" || a.Status != "" {
		t.Errorf("account 0: %+v", a)
	}
	if a.UserID != "alice" || a.Alias != "work" || !a.CreatedAt.Equal(time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)) {
		t.Errorf("account 0: user %q, alias %q, created %v", a.UserID, a.Alias, a.CreatedAt)
	}
	if accounts[2].Val.Subdomain != "example" || accounts[3].Status != "EXPIRED" || accounts[3].UserID != "bob" {
		t.Errorf("accounts 2, 3: %+v %+v", accounts[2], accounts[3])
	}
}

// TestToolkitBaseURLs: accounts without base_url get their toolkit's, as
// the OriginMismatch of an endpoint elsewhere shows (no network needed).
func TestToolkitBaseURLs(t *testing.T) {
	t.Parallel()
	s, _, err := newServer(&options{accounts: "testdata/accounts.json", apiKey: "ak_cmd"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for account, base := range map[string]string{"ca_github": "https://api.github.com", "ca_basic": "https://example.atlassian.net"} {
		req := httptest.NewRequest(http.MethodPost, "/api/v3/tools/execute/proxy",
			strings.NewReader(`{"connected_account_id":"`+account+`","endpoint":"https://evil.test/x","method":"GET"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Api-Key", "ak_cmd")
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code != 400 || !strings.Contains(w.Body.String(), `"slug":"OriginMismatch"`) || !strings.Contains(w.Body.String(), base) {
			t.Errorf("%s: got %d %s, want an OriginMismatch naming %s", account, w.Code, w.Body, base)
		}
	}
}

func TestLoadAccountsErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, json, want string
	}{
		{"not JSON", `[{`, "accounts:"},
		{"not an array", `{"id":"a"}`, "cannot unmarshal object"},
		{"unknown field", `[{"id":"a","auth_scheme":"NO_AUTH","base_url":"https://x.test","handler":"x"}]`, `unknown field "handler"`},
		{"missing id", `[{"auth_scheme":"NO_AUTH","base_url":"https://x.test"}]`, "accounts[0]: id is required"},
		{"repeated id", `[{"id":"a","auth_scheme":"NO_AUTH","base_url":"https://x.test"},{"id":"a","auth_scheme":"NO_AUTH","base_url":"https://x.test"}]`, `accounts[1]: id "a" repeated`},
		{"missing scheme", `[{"id":"a","base_url":"https://x.test"}]`, "auth_scheme is required"},
		{"missing base_url", `[{"id":"a","auth_scheme":"NO_AUTH"}]`, `accounts[0] (a): base_url is required: toolkit "" is not registered`},
		{"missing base_url, unknown toolkit", `[{"id":"a","toolkit":"nope","auth_scheme":"NO_AUTH"}]`, `toolkit "nope" is not registered`},
		{"missing base_url, toolkit template field missing", `[{"id":"a","toolkit":"zendesk","auth_scheme":"NO_AUTH"}]`, `toolkit "zendesk" needs connection field "subdomain"`},
		{"relative base_url", `[{"id":"a","auth_scheme":"NO_AUTH","base_url":"/api"}]`, "base_url must be an absolute http(s) URL"},
		{"trailing data", `[] []`, "data after the JSON array"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := loadAccounts(strings.NewReader(tt.json))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want %q", err, tt.want)
			}
		})
	}
}

func TestParseFlags(t *testing.T) {
	t.Parallel()
	o, err := parseFlags([]string{"-addr", ":0", "-api-key", "ak_x", "-binary-ttl", "1m"}, io.Discard)
	if err != nil || o.addr != ":0" || o.apiKey != "ak_x" || o.binaryTTL != time.Minute {
		t.Errorf("got %+v, %v", o, err)
	}
	o, err = parseFlags([]string{"-org-limit", "60", "-org-window", "1m"}, io.Discard)
	if err != nil || o.orgLimit != 60 || o.orgWindow != time.Minute {
		t.Errorf("org limit: got %+v, %v", o, err)
	}
	for _, args := range [][]string{{"-org-limit", "-1"}, {"-org-limit", "5", "-org-window", "1ms"}} {
		if _, err := parseFlags(args, io.Discard); err == nil {
			t.Errorf("%q accepted", args)
		}
	}
	if _, err := parseFlags([]string{"-nope"}, io.Discard); err == nil {
		t.Error("unknown flag accepted")
	}
	if _, err := parseFlags([]string{"-h"}, io.Discard); err != flag.ErrHelp {
		t.Errorf("-h: %v", err)
	}
	if _, err := parseFlags([]string{"extra"}, io.Discard); err == nil {
		t.Error("extra argument accepted")
	}
}

// TestHandler serves the fake built from a file without a port of its
// own; the upstream is an httptest server.
func TestHandler(t *testing.T) {
	t.Parallel()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{"path": r.URL.Path, "auth": r.Header.Get("Authorization")})
	}))
	defer up.Close()
	file := filepath.Join(t.TempDir(), "accounts.json")
	os.WriteFile(file, []byte(`[{"id":"ca_up","toolkit":"up","auth_scheme":"BEARER_TOKEN","val":{"token":"tk"},"base_url":"`+up.URL+`/api"}]`), 0o600)

	s, n, err := newServer(&options{accounts: file, apiKey: "ak_cmd", binaryTTL: time.Minute, upstreamTimeout: time.Second})
	if err != nil || n != 1 {
		t.Fatalf("newServer: %d, %v", n, err)
	}
	defer s.Close()

	tests := []struct {
		name, key, body string
		status          int
		want            string
	}{
		{"forwarded", "ak_cmd", `{"connected_account_id":"ca_up","endpoint":"/v1/x","method":"GET"}`, 200, `"data":{"auth":"Bearer tk","path":"/api/v1/x"}`},
		{"wrong key", "ak_other", `{"connected_account_id":"ca_up","endpoint":"/v1/x","method":"GET"}`, 401, `"slug":"InvalidAPIKey"`},
		{"unknown account", "ak_cmd", `{"connected_account_id":"ca_no","endpoint":"/v1/x","method":"GET"}`, 404, `"slug":"ConnectedAccountNotFound"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/api/v3/tools/execute/proxy", strings.NewReader(tt.body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Api-Key", tt.key)
			w := httptest.NewRecorder()
			s.ServeHTTP(w, req)
			if w.Code != tt.status || !strings.Contains(w.Body.String(), tt.want) {
				t.Errorf("got %d %s, want %d with %s", w.Code, w.Body, tt.status, tt.want)
			}
		})
	}
}

// TestOrgLimitFlag: -org-limit makes the fake refuse past the limit.
func TestOrgLimitFlag(t *testing.T) {
	t.Parallel()
	s, _, err := newServer(&options{apiKey: "ak_cmd", orgLimit: 2, orgWindow: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var got []string
	for range 3 {
		req := httptest.NewRequest(http.MethodPost, "/api/v3.1/tools/execute/proxy", strings.NewReader(`{"connected_account_id":"ca_no","endpoint":"/x","method":"GET"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Api-Key", "ak_cmd")
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		got = append(got, fmt.Sprintf("%d %s %s", w.Code, w.Header().Get("X-RateLimit-Remaining"), w.Header().Get("X-RateLimit-Window-Size")))
	}
	if want := []string{"404 1 3600s", "404 0 3600s", "429 0 3600s"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestNewServerErrors(t *testing.T) {
	t.Parallel()
	if _, _, err := newServer(&options{accounts: "testdata/missing.json"}); err == nil {
		t.Error("missing file accepted")
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`[{"id":""}]`), 0o600)
	if _, _, err := newServer(&options{accounts: bad}); err == nil || !strings.Contains(err.Error(), "bad.json") {
		t.Errorf("got %v", err)
	}
}

// TestRun starts the command on an ephemeral loopback port, makes one call
// through the library's Transport and stops it as a signal would.
func TestRun(t *testing.T) {
	t.Parallel()
	s := start(t, "-accounts", "testdata/accounts.json", "-api-key", "ak_run")
	if !strings.HasPrefix(s.vars["COMPOSIO_BASE_URL"], "http://127.0.0.1:") {
		t.Fatalf("printed %v", s.vars)
	}
	if st := s.status(t, "ak_run"); st != 422 { // ca_expired
		t.Errorf("call: %d", st)
	}
	s.stop() // as SIGINT or SIGTERM would: run returns nil
}

// TestListByUser: the accounts of accounts.json are listed by user id.
func TestListByUser(t *testing.T) {
	t.Parallel()
	s, _, err := newServer(&options{accounts: "testdata/accounts.json", apiKey: "ak_cmd"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	req := httptest.NewRequest(http.MethodGet, "/api/v3.1/connected_accounts?user_ids=bob&statuses=ACTIVE", nil)
	req.Header.Set("X-Api-Key", "ak_cmd")
	w := httptest.NewRecorder()
	s.ServeHTTP(w, req)
	body := w.Body.String()
	if w.Code != 200 || !strings.Contains(body, `"id":"ca_basic"`) || strings.Contains(body, "ca_expired") ||
		strings.Contains(body, "ca_github") || !strings.Contains(body, `"total_items":1`) {
		t.Errorf("got %d %s", w.Code, body)
	}
}
