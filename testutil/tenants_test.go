package testutil_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/testutil"
)

var t0 = time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)

// whoAmI is an upstream that answers with the account it was reached as.
func whoAmI(id string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"account":%q}`, id)
	})
}

// tenantAccounts adds two users' accounts: u1 has three github accounts
// (ca_gh1 oldest, ca_gh2 newest, ca_gh_custom of another auth config,
// oldest of all) and an expired slack one; u2 one github account.
func tenantAccounts(s *testutil.Server) {
	add := func(id, user, toolkit, status, authConfig string, created time.Time) {
		s.AddAccount(testutil.Account{
			ID: id, UserID: user, Toolkit: toolkit, Status: status, AuthConfigID: authConfig,
			AuthScheme: credentials.BearerToken, Val: credentials.Val{Token: "tok_" + id},
			CreatedAt: created, Alias: "alias_" + id, WordID: "word_" + id,
			Handler: whoAmI(id),
		})
	}
	add("ca_gh_custom", "u1", "github", "", "ac_custom", t0)
	add("ca_gh1", "u1", "github", "", "", t0.Add(time.Hour))
	add("ca_gh2", "u1", "github", "ACTIVE", "", t0.Add(2*time.Hour))
	add("ca_slack", "u1", "slack", "EXPIRED", "", t0.Add(3*time.Hour))
	add("ca_u2", "u2", "github", "", "", t0.Add(4*time.Hour))
}

type listReply struct {
	Items []struct {
		ID      string `json:"id"`
		UserID  string `json:"user_id"`
		Alias   string `json:"alias"`
		WordID  string `json:"word_id"`
		Status  string `json:"status"`
		Toolkit struct {
			Slug string `json:"slug"`
		} `json:"toolkit"`
		AuthConfig struct {
			ID string `json:"id"`
		} `json:"auth_config"`
		CreatedAt string `json:"created_at"`
	} `json:"items"`
	NextCursor  *string `json:"next_cursor"`
	TotalItems  int     `json:"total_items"`
	TotalPages  int     `json:"total_pages"`
	CurrentPage int     `json:"current_page"`
}

func (l listReply) ids() []string {
	var ids []string
	for _, it := range l.Items {
		ids = append(ids, it.ID)
	}
	return ids
}

// api sends a request with the fake's API key and returns the status and
// body.
func api(t *testing.T, s *testutil.Server, method, path, body string) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Api-Key", s.APIKey)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

func errorOf(t *testing.T, b []byte) composiohttp.ErrorBody {
	t.Helper()
	var e composiohttp.ErrorResponse
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("error reply %s: %v", b, err)
	}
	return e.Error
}

func TestAccountListFilters(t *testing.T) {
	t.Parallel()
	s := testutil.NewServer(t)
	tenantAccounts(s)
	all := []string{"ca_u2", "ca_slack", "ca_gh2", "ca_gh1", "ca_gh_custom"} // newest first
	tests := []struct {
		name    string
		query   string
		want    []string
		unknown []string
	}{
		{"no filter", "", all, nil},
		{"one user", "user_ids=u1", all[1:], nil},
		{"users comma-separated", "user_ids=u2,u1", all, nil},
		{"users repeated", "user_ids=u2&user_ids=nobody", all[:1], nil},
		{"toolkit", "toolkit_slugs=slack", []string{"ca_slack"}, nil},
		{"toolkit case-insensitive", "toolkit_slugs=GitHub", []string{"ca_u2", "ca_gh2", "ca_gh1", "ca_gh_custom"}, nil},
		{"user, toolkit and status", "user_ids=u1&toolkit_slugs=github,slack&statuses=ACTIVE", []string{"ca_gh2", "ca_gh1", "ca_gh_custom"}, nil},
		{"expired only", "statuses=EXPIRED", []string{"ca_slack"}, nil},
		{"account ids", "connected_account_ids=ca_gh1,ca_u2", []string{"ca_u2", "ca_gh1"}, nil},
		{"auth config", "auth_config_ids=ac_custom", []string{"ca_gh_custom"}, nil},
		{"labels: accounts have none", "labels=x", nil, nil},
		{"order by update", "order_by=updated_at&user_ids=u2", []string{"ca_u2"}, nil},
		// Misspelt filters are ignored, as the real API ignores them:
		// every account comes back, and the fake records the names.
		{"unknown filters", "entityId=u1&toolkit=github&status=ACTIVE", all, []string{"entityId", "status", "toolkit"}},
		{"known and unknown", "user_ids=u2&user_id=u1", all[:1], []string{"user_id"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, path := range []string{"/api/v3.1/connected_accounts", "/api/v3/connected_accounts"} {
				status, body := api(t, s, http.MethodGet, path+"?"+tt.query, "")
				if status != http.StatusOK {
					t.Fatalf("%s: status %d: %s", path, status, body)
				}
				var l listReply
				if err := json.Unmarshal(body, &l); err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(l.ids(), tt.want) {
					t.Errorf("%s?%s: ids %q, want %q", path, tt.query, l.ids(), tt.want)
				}
				if l.TotalItems != len(tt.want) {
					t.Errorf("total_items %d, want %d", l.TotalItems, len(tt.want))
				}
			}
		})
	}
	t.Cleanup(func() { // after the parallel subtests: every listing recorded its unknown names

		for _, l := range s.AccountListings() {
			for _, tt := range tests {
				if l.Query.Encode() == mustQuery(tt.query).Encode() && !slices.Equal(l.Unknown, tt.unknown) {
					t.Errorf("listing ?%s: Unknown %q, want %q", tt.query, l.Unknown, tt.unknown)
				}
			}
		}
		if got, want := s.UnknownListParams(), []string{"entityId", "status", "toolkit", "user_id"}; !slices.Equal(got, want) {
			t.Errorf("UnknownListParams = %q, want %q", got, want)
		}
	})
}

func mustQuery(q string) url.Values {
	v, err := url.ParseQuery(q)
	if err != nil {
		panic(err)
	}
	return v
}

func TestAccountListItemShape(t *testing.T) {
	t.Parallel()
	s := testutil.NewServer(t)
	tenantAccounts(s)
	status, body := api(t, s, http.MethodGet, "/api/v3.1/connected_accounts?connected_account_ids=ca_gh_custom", "")
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, body)
	}
	var l listReply
	if err := json.Unmarshal(body, &l); err != nil {
		t.Fatal(err)
	}
	if len(l.Items) != 1 {
		t.Fatalf("items %s", body)
	}
	it := l.Items[0]
	if it.UserID != "u1" || it.Alias != "alias_ca_gh_custom" || it.WordID != "word_ca_gh_custom" ||
		it.Status != "ACTIVE" || it.Toolkit.Slug != "github" || it.AuthConfig.ID != "ac_custom" ||
		it.CreatedAt != "2026-04-01T12:00:00.000Z" {
		t.Errorf("item %+v", it)
	}
	if l.NextCursor != nil || l.TotalPages != 1 || l.CurrentPage != 1 {
		t.Errorf("paging: %s", body)
	}
	if bytes.Contains(body, []byte("tok_")) {
		t.Errorf("the listing shows a credential: %s", body)
	}
}

func TestAccountListPagination(t *testing.T) {
	t.Parallel()
	s := testutil.NewServer(t)
	for i := range 5 {
		s.AddAccount(testutil.Account{
			ID: fmt.Sprintf("ca_%d", i), UserID: "u", Toolkit: "github",
			AuthScheme: credentials.BearerToken, Val: credentials.Val{Token: "t"},
			CreatedAt: t0.Add(time.Duration(i) * time.Minute),
		})
	}
	var got []string
	var pages []int
	path := "/api/v3.1/connected_accounts?user_ids=u&limit=2"
	for range 10 {
		status, body := api(t, s, http.MethodGet, path, "")
		if status != http.StatusOK {
			t.Fatalf("status %d: %s", status, body)
		}
		var l listReply
		if err := json.Unmarshal(body, &l); err != nil {
			t.Fatal(err)
		}
		if l.TotalItems != 5 || l.TotalPages != 3 {
			t.Errorf("totals: %s", body)
		}
		got = append(got, l.ids()...)
		pages = append(pages, l.CurrentPage)
		if l.NextCursor == nil {
			break
		}
		path = "/api/v3.1/connected_accounts?user_ids=u&limit=2&cursor=" + *l.NextCursor
	}
	if want := []string{"ca_4", "ca_3", "ca_2", "ca_1", "ca_0"}; !slices.Equal(got, want) {
		t.Errorf("pages gave %q, want %q", got, want)
	}
	if !slices.Equal(pages, []int{1, 2, 3}) {
		t.Errorf("current_page %v", pages)
	}
	// Reset forgets the listings (the accounts stay).
	if len(s.AccountListings()) == 0 {
		t.Fatal("no listing recorded")
	}
	s.Reset()
	if n := len(s.AccountListings()); n != 0 {
		t.Errorf("%d listings after Reset", n)
	}
	// Without limit, one default-size page holds all five.
	_, body := api(t, s, http.MethodGet, "/api/v3.1/connected_accounts", "")
	var l listReply
	json.Unmarshal(body, &l)
	if len(l.Items) != 5 || l.NextCursor != nil {
		t.Errorf("default page: %s", body)
	}
}

func TestAccountListErrors(t *testing.T) {
	t.Parallel()
	s := testutil.NewServer(t)
	tests := []struct {
		name, method, query string
		status              int
		slug, detail        string
	}{
		{"bad limit", http.MethodGet, "limit=abc", 400, composiohttp.SlugValidationError, "limit: must be an integer"},
		{"limit zero", http.MethodGet, "limit=0", 400, composiohttp.SlugValidationError, "limit"},
		{"limit too large", http.MethodGet, "limit=100000", 400, composiohttp.SlugValidationError, "limit"},
		{"bad cursor", http.MethodGet, "cursor=x", 400, composiohttp.SlugValidationError, "cursor"},
		{"bad status", http.MethodGet, "statuses=ACTIVE,GONE", 400, composiohttp.SlugValidationError, `statuses: must be one of`},
		{"bad order", http.MethodGet, "order_by=name", 400, composiohttp.SlugValidationError, "order_by"},
		{"POST", http.MethodPost, "", 405, composiohttp.SlugMethodNotAllowed, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			status, body := api(t, s, tt.method, "/api/v3.1/connected_accounts?"+tt.query, "")
			e := errorOf(t, body)
			if status != tt.status || e.Slug != tt.slug || e.Status != tt.status || e.Code != 10000+tt.status {
				t.Fatalf("status %d: %s", status, body)
			}
			if tt.detail != "" && !strings.Contains(strings.Join(e.Errors, "\n"), tt.detail) {
				t.Errorf("errors %q lack %q", e.Errors, tt.detail)
			}
		})
	}
	t.Run("no API key", func(t *testing.T) {
		t.Parallel()
		resp, err := http.Get(s.URL + "/api/v3.1/connected_accounts")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("status %d, want 401", resp.StatusCode)
		}
	})
}

// createSession creates a session and returns its id, failing the test on
// any status but 201.
func createSession(t *testing.T, s *testutil.Server, body string) string {
	t.Helper()
	status, b := api(t, s, http.MethodPost, "/api/v3.1/tool_router/session", body)
	if status != http.StatusCreated {
		t.Fatalf("create session %s: status %d: %s", body, status, b)
	}
	var r struct {
		SessionID string `json:"session_id"`
		Config    struct {
			UserID string `json:"user_id"`
		} `json:"config"`
		MCP struct {
			Type, URL string
		} `json:"mcp"`
	}
	if err := json.Unmarshal(b, &r); err != nil || r.SessionID == "" || r.Config.UserID == "" || r.MCP.Type != "http" {
		t.Fatalf("create reply %s (%v)", b, err)
	}
	return r.SessionID
}

func sessionProxy(id string) string { return "/api/v3.1/tool_router/session/" + id + "/proxy_execute" }

func TestSessionPrecedence(t *testing.T) {
	t.Parallel()
	s := testutil.NewServer(t)
	tenantAccounts(s)
	tests := []struct {
		name, create, toolkit string
		wantAccount           string // "" for an error
		status                int
		slug                  string
	}{
		{"most recently connected", `{"user_id":"u1"}`, "github", "ca_gh2", 200, ""},
		{"toolkit case-insensitive", `{"user_id":"u1"}`, "GitHub", "ca_gh2", 200, ""},
		{"pinned account", `{"user_id":"u1","connected_accounts":{"github":"ca_gh1"}}`, "github", "ca_gh1", 200, ""},
		{"pinned wins over auth config", `{"user_id":"u1","connected_accounts":{"github":"ca_gh1"},"auth_configs":{"github":"ac_custom"}}`, "github", "ca_gh1", 200, ""},
		{"auth config", `{"user_id":"u1","auth_configs":{"github":"ac_custom"}}`, "github", "ca_gh_custom", 200, ""},
		{"auth config without accounts", `{"user_id":"u1","auth_configs":{"github":"ac_none"}}`, "github", "", 404, composiohttp.SlugConnectedAccountNotFound},
		{"other user", `{"user_id":"u2"}`, "github", "ca_u2", 200, ""},
		{"only an expired account", `{"user_id":"u1"}`, "slack", "", 404, composiohttp.SlugConnectedAccountNotFound},
		{"user without accounts", `{"user_id":"u3"}`, "github", "", 404, composiohttp.SlugConnectedAccountNotFound},
		{"pin to another toolkit's slug unaffected", `{"user_id":"u1","connected_accounts":{"github":"ca_gh1"}}`, "slack", "", 404, composiohttp.SlugConnectedAccountNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			id := createSession(t, s, tt.create)
			status, body := api(t, s, http.MethodPost, sessionProxy(id),
				fmt.Sprintf(`{"toolkit_slug":%q,"endpoint":"/whoami","method":"GET"}`, tt.toolkit))
			if status != tt.status {
				t.Fatalf("status %d, want %d: %s", status, tt.status, body)
			}
			if tt.wantAccount == "" {
				if e := errorOf(t, body); e.Slug != tt.slug || !strings.Contains(e.Message, "toolkit") {
					t.Errorf("error %+v", e)
				}
				return
			}
			var env composiohttp.ProxyResponse
			if err := json.Unmarshal(body, &env); err != nil {
				t.Fatal(err)
			}
			if want := fmt.Sprintf(`{"account":%q}`, tt.wantAccount); string(env.Data) != want {
				t.Errorf("upstream saw %s, want %s", env.Data, want)
			}
		})
	}
}

func TestSessionProxyValidation(t *testing.T) {
	t.Parallel()
	s := testutil.NewServer(t)
	tenantAccounts(s)
	id := createSession(t, s, `{"user_id":"u1"}`)
	tests := []struct {
		name, path, body string
		status           int
		slug             string
		details          []string
	}{
		{"missing toolkit_slug", sessionProxy(id), `{"endpoint":"/x","method":"GET"}`, 400, composiohttp.SlugValidationError, []string{"toolkit_slug: required"}},
		{"null toolkit_slug", sessionProxy(id), `{"toolkit_slug":null,"endpoint":"/x","method":"GET"}`, 400, composiohttp.SlugValidationError, []string{"toolkit_slug: required"}},
		{"empty toolkit_slug", sessionProxy(id), `{"toolkit_slug":"","endpoint":"/x","method":"GET"}`, 400, composiohttp.SlugValidationError, []string{"toolkit_slug: must not be empty"}},
		{"toolkit_slug not a string", sessionProxy(id), `{"toolkit_slug":1,"endpoint":"/x","method":"GET"}`, 400, composiohttp.SlugValidationError, []string{"toolkit_slug: must be a string"}},
		{"connected_account_id refused", sessionProxy(id), `{"toolkit_slug":"github","connected_account_id":"ca_gh1","endpoint":"/x","method":"GET"}`, 400, composiohttp.SlugValidationError, []string{"connected_account_id: unknown field"}},
		{"plain rules too, all reported", sessionProxy(id), `{"endpoint":"/x","method":"TRACE","extra":1}`, 400, composiohttp.SlugValidationError, []string{"toolkit_slug: required", "extra: unknown field", "method: must be one of"}},
		{"not JSON", sessionProxy(id), `{`, 400, composiohttp.SlugValidationError, []string{"invalid JSON"}},
		{"unknown session", sessionProxy("trs_nope"), `{"toolkit_slug":"github","endpoint":"/x","method":"GET"}`, 404, testutil.SlugSessionNotFound, nil},
		{"v3 has no session proxy", "/api/v3/tool_router/session/" + id + "/proxy_execute", `{"toolkit_slug":"github","endpoint":"/x","method":"GET"}`, 404, composiohttp.SlugNotFound, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			status, body := api(t, s, http.MethodPost, tt.path, tt.body)
			e := errorOf(t, body)
			if status != tt.status || e.Slug != tt.slug || e.Status != tt.status || e.RequestID == "" {
				t.Fatalf("status %d, want %d %s: %s", status, tt.status, tt.slug, body)
			}
			all := strings.Join(e.Errors, "\n")
			for _, d := range tt.details {
				if !strings.Contains(all, d) {
					t.Errorf("errors %q lack %q", e.Errors, d)
				}
			}
		})
	}
}

// A session call keeps the plain proxy's behaviour: the body arrives
// byte for byte, custom_connection_data works, faults apply, and the call
// is recorded with the raw body.
func TestSessionProxyLikePlainProxy(t *testing.T) {
	t.Parallel()
	s := testutil.NewServer(t)
	got := make(chan []byte, 1)
	s.AddAccount(testutil.Account{
		ID: "ca_1", UserID: "u1", Toolkit: "github",
		AuthScheme: credentials.BearerToken, Val: credentials.Val{Token: "tok"},
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			got <- b
			if r.Header.Get("Authorization") != "Bearer tok" {
				w.WriteHeader(http.StatusUnauthorized)
			}
		}),
	})
	id := createSession(t, s, `{"user_id":"u1"}`)
	body := `{"toolkit_slug":"github","endpoint":"/repos","method":"POST","body":{ "a" : [1, false, {}] }}`
	status, reply := api(t, s, http.MethodPost, sessionProxy(id), body)
	if status != 200 {
		t.Fatalf("status %d: %s", status, reply)
	}
	if b := <-got; string(b) != `{ "a" : [1, false, {}] }` {
		t.Errorf("upstream body %q", b)
	}
	var env composiohttp.ProxyResponse
	json.Unmarshal(reply, &env)
	if env.Status != 200 {
		t.Errorf("upstream status %d (credentials not applied?)", env.Status)
	}
	recs := s.Requests()
	if len(recs) != 1 || recs[0].Path != sessionProxy(id) || string(recs[0].Body) != body || recs[0].Envelope.Method != "POST" {
		t.Errorf("recorded %+v", recs)
	}

	s.Inject(testutil.Fault{Status: 503, Times: 1, Account: "ca_1"})
	if status, reply := api(t, s, http.MethodPost, sessionProxy(id), body); status != 503 {
		t.Errorf("fault: status %d: %s", status, reply)
	}

	s.AddUpstream("https://api.example.org", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Header.Get("Authorization"))
	}))
	conn := `{"toolkit_slug":"x","endpoint":"/y","method":"GET","custom_connection_data":{"authScheme":"BEARER_TOKEN","toolkitSlug":"x","val":{"token":"abc","base_url":"https://api.example.org"}}}`
	status, reply = api(t, s, http.MethodPost, sessionProxy(id), conn)
	json.Unmarshal(reply, &env)
	if status != 200 || !strings.Contains(string(env.Data), "Bearer abc") {
		t.Errorf("custom_connection_data: %d %s", status, reply)
	}
}

func TestSessionCreateValidation(t *testing.T) {
	t.Parallel()
	s := testutil.NewServer(t)
	tenantAccounts(s)
	tests := []struct {
		name, body string
		status     int
		slug       string
		detail     string
	}{
		{"no user", `{}`, 400, composiohttp.SlugValidationError, "user_id: required"},
		{"empty user", `{"user_id":""}`, 400, composiohttp.SlugValidationError, "user_id: must not be empty"},
		{"user not a string", `{"user_id":7}`, 400, composiohttp.SlugValidationError, "user_id: must be a string"},
		{"unknown field", `{"user_id":"u1","entity_id":"u1"}`, 400, composiohttp.SlugValidationError, "entity_id: unknown field"},
		{"accounts not an object", `{"user_id":"u1","connected_accounts":["ca_gh1"]}`, 400, composiohttp.SlugValidationError, "connected_accounts: must be an object"},
		{"account id not a string", `{"user_id":"u1","connected_accounts":{"github":1}}`, 400, composiohttp.SlugValidationError, "connected_accounts.github: must be a string"},
		{"another user's account", `{"user_id":"u1","connected_accounts":{"github":"ca_u2"}}`, 400, composiohttp.SlugValidationError, "belongs to another user"},
		{"another toolkit's account", `{"user_id":"u1","connected_accounts":{"slack":"ca_gh1"}}`, 400, composiohttp.SlugValidationError, `is of toolkit "github"`},
		{"unknown account", `{"user_id":"u1","connected_accounts":{"github":"ca_nope"}}`, 404, composiohttp.SlugConnectedAccountNotFound, ""},
		{"not JSON", `{"user_id":`, 400, composiohttp.SlugValidationError, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			status, body := api(t, s, http.MethodPost, "/api/v3.1/tool_router/session", tt.body)
			e := errorOf(t, body)
			if status != tt.status || e.Slug != tt.slug {
				t.Fatalf("status %d: %s", status, body)
			}
			if !strings.Contains(strings.Join(e.Errors, "\n"), tt.detail) {
				t.Errorf("errors %q lack %q", e.Errors, tt.detail)
			}
		})
	}
	t.Run("documented options accepted, v3 path too", func(t *testing.T) {
		t.Parallel()
		status, body := api(t, s, http.MethodPost, "/api/v3/tool_router/session",
			`{"user_id":"u1","toolkits":{"enable":["github"]},"manage_connections":{"enable":false},"workbench":{},"tags":[],"tools":{}}`)
		if status != http.StatusCreated {
			t.Fatalf("status %d: %s", status, body)
		}
		var r struct {
			SessionID string `json:"session_id"`
		}
		json.Unmarshal(body, &r)
		info, ok := s.Session(r.SessionID)
		if !ok || info.UserID != "u1" {
			t.Errorf("Session(%q) = %+v, %v", r.SessionID, info, ok)
		}
	})
}
