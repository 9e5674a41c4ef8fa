package composiohttp

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestSessionEnvelope: a session call goes to the session's proxy_execute
// with toolkit_slug first and no connected_account_id; the rest of the
// envelope is the plain proxy's, byte for byte.
func TestSessionEnvelope(t *testing.T) {
	t.Parallel()
	github := ToolkitLookupFunc(func(u *url.URL) (string, error) {
		if u.Host == "api.github.com" {
			return "github", nil
		}
		return "", errors.New("not github")
	})
	tests := []struct {
		name    string
		tr      *Transport
		ctx     func(context.Context) context.Context
		method  string
		url     string
		body    string
		path    string
		want    string
		toolkit string
	}{
		{
			name: "WithSession, derived toolkit", tr: &Transport{Toolkits: github},
			ctx:    func(c context.Context) context.Context { return WithSession(c, "trs_1") },
			method: "GET", url: "https://api.github.com/repos/o/r/issues?state=open&per_page=5",
			path:    "/base/api/v3.1/tool_router/session/trs_1/proxy_execute",
			want:    `{"toolkit_slug":"github","endpoint":"https://api.github.com/repos/o/r/issues","method":"GET","parameters":[{"name":"state","value":"open","type":"query"},{"name":"per_page","value":"5","type":"query"}]}`,
			toolkit: "github",
		},
		{
			name: "Transport.SessionID, WithToolkit, JSON body", tr: &Transport{SessionID: "trs/2"},
			ctx:    func(c context.Context) context.Context { return WithToolkit(c, "linear") },
			method: "POST", url: "/graphql", body: `{"query":"{ viewer { id } }","v":false}`,
			path:    "/base/api/v3.1/tool_router/session/trs%2F2/proxy_execute",
			want:    `{"toolkit_slug":"linear","endpoint":"/graphql","method":"POST","parameters":[{"name":"Content-Type","value":"application/json","type":"header"}],"body":{"query":"{ viewer { id } }","v":false}}`,
			toolkit: "linear",
		},
		{
			name: "WithToolkit before WithSession is kept", tr: &Transport{ConnectedAccountID: "ca_ignored"},
			ctx:    func(c context.Context) context.Context { return WithSession(WithToolkit(c, "slack"), "trs_3") },
			method: "DELETE", url: "https://slack.com/api/x",
			path:    "/base/api/v3.1/tool_router/session/trs_3/proxy_execute",
			want:    `{"toolkit_slug":"slack","endpoint":"https://slack.com/api/x","method":"DELETE"}`,
			toolkit: "slack",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := &stubProxy{reply: okReply}
			tr := tt.tr
			if tr == nil {
				tr = &Transport{}
			}
			tr.APIKey, tr.BaseURL, tr.Base = "ak_k", "https://proxy.test/base/", p
			info := &CallInfo{}
			ctx := WithCallInfo(tt.ctx(context.Background()), info)
			var req *http.Request
			if tt.body != "" {
				req, _ = http.NewRequestWithContext(ctx, tt.method, tt.url, strings.NewReader(tt.body))
				req.Header.Set("Content-Type", "application/json")
			} else {
				req, _ = http.NewRequestWithContext(ctx, tt.method, tt.url, nil)
			}
			resp, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if got := string(p.bodies[0]); got != tt.want {
				t.Errorf("envelope\n got %s\nwant %s", got, tt.want)
			}
			if u, _ := url.Parse(p.paths[0]); u.EscapedPath() != tt.path || u.Host != "proxy.test" {
				t.Errorf("posted to %s, want path %s", p.paths[0], tt.path)
			}
			if info.Toolkit != tt.toolkit || info.SessionID == "" || info.ConnectedAccountID != "" || info.Resolved {
				t.Errorf("CallInfo %+v", info)
			}
		})
	}
}

func TestSessionAndUserRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		tr      *Transport
		ctx     func(context.Context) context.Context
		url     string
		wantErr error
		errHas  []string
	}{
		{name: "session on v3", tr: &Transport{APIVersion: "v3"}, ctx: func(c context.Context) context.Context { return WithToolkit(WithSession(c, "trs_1"), "github") },
			url: "https://api.github.com/user", wantErr: ErrBadRequest, errHas: []string{"v3.1"}},
		{name: "unknown host, no Toolkits", ctx: func(c context.Context) context.Context { return WithUser(c, "u1") },
			url: "https://api.acme.test/x", wantErr: ErrNoToolkit, errHas: []string{`"api.acme.test"`, "WithToolkit", "Transport.Toolkits"}},
		{name: "unknown host", tr: &Transport{Toolkits: ToolkitLookupFunc(func(*url.URL) (string, error) { return "", errors.New("no registered toolkit") })},
			ctx: func(c context.Context) context.Context { return WithSession(c, "trs_1") },
			url: "https://api.acme.test/x", wantErr: ErrNoToolkit, errHas: []string{`"api.acme.test"`, "no registered toolkit", "WithToolkit"}},
		{name: "relative URL", tr: &Transport{UserID: "u1"}, url: "/user", wantErr: ErrNoToolkit, errHas: []string{"no host", "WithToolkit"}},
		{name: "empty user clears to nothing", ctx: func(c context.Context) context.Context { return WithUser(c, "") }, url: "https://api.github.com/user", wantErr: ErrNoAuthContext},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := &stubProxy{reply: okReply}
			tr := tt.tr
			if tr == nil {
				tr = &Transport{}
			}
			tr.APIKey, tr.BaseURL, tr.Base = "ak_k", "https://proxy.test", p
			ctx := context.Background()
			if tt.ctx != nil {
				ctx = tt.ctx(ctx)
			}
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, tt.url, nil)
			_, err := tr.RoundTrip(req)
			if !errors.Is(err, tt.wantErr) || p.calls != 0 {
				t.Fatalf("err = %v, calls %d; want %v", err, p.calls, tt.wantErr)
			}
			for _, s := range tt.errHas {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q lacks %q", err, s)
				}
			}
		})
	}
}

func TestTenantIdentity(t *testing.T) {
	t.Parallel()
	bg := context.Background()
	tests := []struct {
		name string
		ctx  context.Context
		want string
	}{
		{"user", WithUser(bg, "u1"), "user:u1"},
		{"user and toolkit", WithToolkit(WithUser(bg, "u1"), "GitHub"), "user:u1/toolkit:github"},
		{"toolkit then user", WithUser(WithToolkit(bg, "github"), "u1"), "user:u1/toolkit:github"},
		{"escaped: no collision with user u/toolkit:x", WithUser(bg, "u/toolkit:x"), "user:u%2Ftoolkit%3Ax"},
		{"session", WithToolkit(WithSession(bg, "trs_1"), "slack"), "session:trs_1/toolkit:slack"},
		{"account then user", WithUser(WithConnectedAccount(bg, "ca_1"), "u1"), "user:u1"},
		{"user then account", WithConnectedAccount(WithUser(bg, "u1"), "ca_1"), "account:ca_1"},
		{"account keeps its identity under WithToolkit", WithToolkit(WithConnectedAccount(bg, "ca_1"), "github"), "account:ca_1"},
		{"toolkit alone", WithToolkit(bg, "github"), ""},
	}
	for _, tt := range tests {
		if got := Identity(tt.ctx); got != tt.want {
			t.Errorf("%s: Identity = %q, want %q", tt.name, got, tt.want)
		}
	}
	if _, ok := ConnectedAccountFromContext(WithUser(WithConnectedAccount(bg, "ca_1"), "u1")); ok {
		t.Error("ConnectedAccountFromContext reports an account replaced by WithUser")
	}
	if id, ok := ConnectedAccountFromContext(WithToolkit(WithConnectedAccount(bg, "ca_1"), "x")); !ok || id != "ca_1" {
		t.Error("WithToolkit lost the account")
	}
	if u, ok := UserFromContext(WithToolkit(WithUser(bg, "u1"), "x")); !ok || u != "u1" {
		t.Error("UserFromContext")
	}
	if s, ok := SessionFromContext(WithSession(bg, "trs")); !ok || s != "trs" {
		t.Error("SessionFromContext")
	}
	if tk, ok := ToolkitFromContext(WithUser(WithToolkit(bg, "github"), "u")); !ok || tk != "github" {
		t.Error("ToolkitFromContext")
	}
}

// A user from the Transport and the toolkit from the context.
func TestTransportUserID(t *testing.T) {
	t.Parallel()
	api := &accountsAPI{pages: func(q url.Values) string {
		return page("", item("ca_"+q.Get("toolkit_slugs"), q.Get("user_ids"), q.Get("toolkit_slugs"), "ACTIVE"))
	}}
	tr := newResolveTransport(api)
	tr.UserID = "solo"
	info := &CallInfo{}
	req, _ := http.NewRequestWithContext(WithCallInfo(WithToolkit(context.Background(), "notion"), info), http.MethodGet, "https://api.notion.com/v1/users", nil)
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if info.ConnectedAccountID != "ca_notion" || info.UserID != "solo" {
		t.Errorf("CallInfo %+v", info)
	}
}
