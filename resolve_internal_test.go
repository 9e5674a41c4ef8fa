package composiohttp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// accountsAPI is an in-memory Composio: the connected-accounts listing
// answers with pages(query), each page a JSON document; the proxy echoes
// the connected_account_id it was sent, or answers proxyStatus.
type accountsAPI struct {
	pages       func(q url.Values) string
	gate        chan struct{} // if set, listings wait for it to close
	lookups     atomic.Int32
	queries     chan url.Values // if set, each listing's query is sent here
	mu          sync.Mutex
	proxyStatus map[string]int // account id → proxy error status
	bodies      []string
}

func (a *accountsAPI) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		defer r.Body.Close()
	}
	if strings.HasSuffix(r.URL.Path, "/connected_accounts") {
		a.lookups.Add(1)
		if r.Method != http.MethodGet || r.Header.Get("X-Api-Key") != "ak_k" {
			return reply(r, 400, `{"error":{"message":"bad listing request"}}`), nil
		}
		if a.queries != nil {
			a.queries <- r.URL.Query()
		}
		if a.gate != nil {
			select {
			case <-a.gate:
			case <-r.Context().Done():
				return nil, r.Context().Err()
			}
		}
		return reply(r, 200, a.pages(r.URL.Query())), nil
	}
	b, _ := io.ReadAll(r.Body)
	var env struct {
		Account string `json:"connected_account_id"`
	}
	json.Unmarshal(b, &env)
	a.mu.Lock()
	a.bodies = append(a.bodies, string(b))
	st := a.proxyStatus[env.Account]
	a.mu.Unlock()
	switch st {
	case 0:
		return reply(r, 200, fmt.Sprintf(`{"status":200,"headers":{"content-type":"application/json"},"data":{"account":%q}}`, env.Account)), nil
	case 404:
		return reply(r, 404, `{"error":{"message":"Connected account not found","slug":"ConnectedAccountNotFound","status":404}}`), nil
	default:
		return reply(r, st, fmt.Sprintf(`{"error":{"message":"status %d","status":%d}}`, st, st)), nil
	}
}

func reply(r *http.Request, status int, body string) *http.Response {
	return &http.Response{StatusCode: status, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)), Request: r}
}

// item is one listed account as JSON.
func item(id, user, toolkit, status string, extra ...string) string {
	s := fmt.Sprintf(`{"id":%q,"user_id":%q,"toolkit":{"slug":%q},"status":%q,"is_disabled":false,"auth_config":{"id":"ac_1"},"created_at":"2026-04-01T00:00:00.000Z","updated_at":"2026-04-01T00:00:00.000Z"`, id, user, toolkit, status)
	for _, e := range extra {
		s += "," + e
	}
	return s + "}"
}

func page(next string, items ...string) string {
	n := "null"
	if next != "" {
		n = fmt.Sprintf("%q", next)
	}
	return fmt.Sprintf(`{"items":[%s],"next_cursor":%s,"total_items":%d,"total_pages":1,"current_page":1}`, strings.Join(items, ","), n, len(items))
}

func newResolveTransport(api *accountsAPI) *Transport {
	return &Transport{APIKey: "ak_k", BaseURL: "https://backend.test/base", Base: api}
}

// userGet makes a GET to GitHub as user with toolkit github through tr.
func userGet(ctx context.Context, tr *Transport, user string) (string, *CallInfo, error) {
	info := &CallInfo{}
	ctx = WithCallInfo(WithToolkit(WithUser(ctx, user), "github"), info)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://api.github.com/user", nil)
	resp, err := tr.RoundTrip(req)
	if err != nil {
		return "", info, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b), info, nil
}

func TestResolveCases(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		pages   map[string]string // cursor → page
		choose  ChooseFunc
		want    string
		wantErr error
		errHas  []string
	}{
		{name: "one", pages: map[string]string{"": page("", item("ca_1", "u1", "github", "ACTIVE"))}, want: "ca_1"},
		{name: "none", pages: map[string]string{"": page("")}, wantErr: ErrNoConnectedAccount, errHas: []string{`user "u1"`, `toolkit "github"`}},
		{name: "several", pages: map[string]string{"": page("",
			item("ca_1", "u1", "github", "ACTIVE", `"alias":"work","word_id":"coup_hurricane"`),
			item("ca_2", "u1", "github", "ACTIVE", `"alias":"personal","word_id":"dal_analytical"`))},
			wantErr: ErrAmbiguousAccount, errHas: []string{"ca_1", `"work"`, `"coup_hurricane"`, "ca_2", `"personal"`, `"dal_analytical"`, "Choose"}},
		{name: "several, most recently updated", choose: MostRecentlyUpdated, pages: map[string]string{"": page("",
			item("ca_1", "u1", "github", "ACTIVE"),
			strings.Replace(item("ca_2", "u1", "github", "ACTIVE"), `"updated_at":"2026-04-01T00:00:00.000Z"`, `"updated_at":"2026-04-02T00:00:00.000Z"`, 1),
			item("ca_3", "u1", "github", "ACTIVE"))}, want: "ca_2"},
		{name: "chooser may not pick a foreign account", choose: func(string, string, []ConnectedAccount) (ConnectedAccount, error) {
			return ConnectedAccount{ID: "ca_other_user"}, nil
		}, pages: map[string]string{"": page("", item("ca_1", "u1", "github", "ACTIVE"), item("ca_2", "u1", "github", "ACTIVE"))}, wantErr: ErrBadRequest},
		// The listing ignored a filter: items of other users, toolkits and
		// statuses, and disabled ones, are not the user's account.
		{name: "mismatched items dropped", pages: map[string]string{"": page("",
			item("ca_other_user", "u2", "github", "ACTIVE"),
			item("ca_other_toolkit", "u1", "slack", "ACTIVE"),
			item("ca_expired", "u1", "github", "EXPIRED"),
			item("ca_disabled", "u1", "github", "ACTIVE", `"is_disabled":true`),
			item("ca_mine", "u1", "GitHub", "ACTIVE"))}, want: "ca_mine"},
		{name: "only other users' accounts: none, never a fallback", pages: map[string]string{"": page("",
			item("ca_other_user", "u2", "github", "ACTIVE"), item("ca_other_user2", "U1", "github", "ACTIVE"))}, wantErr: ErrNoConnectedAccount},
		{name: "pages followed", pages: map[string]string{
			"":   page("c2", item("ca_x", "u2", "github", "ACTIVE")),
			"c2": page("c3"),
			"c3": page("", item("ca_last", "u1", "github", "ACTIVE")),
		}, want: "ca_last"},
		{name: "several across pages", pages: map[string]string{
			"":   page("c2", item("ca_1", "u1", "github", "ACTIVE")),
			"c2": page("", item("ca_2", "u1", "github", "ACTIVE")),
		}, wantErr: ErrAmbiguousAccount, errHas: []string{"ca_1", "ca_2"}},
		{name: "cursor loop", pages: map[string]string{"": page("c2"), "c2": page("c2")}, errHas: []string{"repeats cursor"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			api := &accountsAPI{pages: func(q url.Values) string { return tt.pages[q.Get("cursor")] }}
			tr := newResolveTransport(api)
			tr.Resolve.Choose = tt.choose
			got, info, err := userGet(context.Background(), tr, "u1")
			if tt.want != "" {
				if err != nil || got != fmt.Sprintf(`{"account":%q}`, tt.want) {
					t.Fatalf("got %s, %v; want account %s", got, err, tt.want)
				}
				if info.ConnectedAccountID != tt.want || !info.Resolved || info.UserID != "u1" || info.Toolkit != "github" || info.ResolverLookups != 1 {
					t.Errorf("CallInfo %+v", info)
				}
				return
			}
			if err == nil || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			for _, s := range tt.errHas {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q lacks %q", err, s)
				}
			}
			if len(api.bodies) != 0 {
				t.Errorf("a proxy call was made: %q", api.bodies)
			}
		})
	}
}

func TestResolveQuery(t *testing.T) {
	t.Parallel()
	api := &accountsAPI{queries: make(chan url.Values, 1), pages: func(url.Values) string { return page("", item("ca_1", "u 1/x", "github", "ACTIVE")) }}
	tr := newResolveTransport(api)
	if _, _, err := userGet(context.Background(), tr, "u 1/x"); err != nil {
		t.Fatal(err)
	}
	q := <-api.queries
	want := url.Values{"user_ids": {"u 1/x"}, "toolkit_slugs": {"github"}, "statuses": {"ACTIVE"}, "limit": {"100"}}
	if q.Encode() != want.Encode() {
		t.Errorf("query %v, want %v", q, want)
	}
}

func TestResolveCacheTTLAndBound(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		api := &accountsAPI{pages: func(q url.Values) string {
			return page("", item("ca_"+q.Get("user_ids"), q.Get("user_ids"), "github", "ACTIVE"))
		}}
		tr := newResolveTransport(api)
		tr.Resolve = ResolveOptions{TTL: time.Minute, MaxEntries: 2}
		get := func(user string) *CallInfo {
			t.Helper()
			body, info, err := userGet(context.Background(), tr, user)
			if err != nil || body != fmt.Sprintf(`{"account":"ca_%s"}`, user) {
				t.Fatalf("%s: %s, %v", user, body, err)
			}
			return info
		}
		steps := []struct {
			user    string
			advance time.Duration
			hit     bool
			lookups int32 // total so far
		}{
			{"a", 0, false, 1},
			{"a", 0, true, 1},                // cache hit
			{"a", 59 * time.Second, true, 1}, // still fresh
			{"a", time.Second, false, 2},     // TTL over
			{"b", 0, false, 3},               // cache: a, b
			{"a", 0, true, 3},                // a most recently used
			{"c", 0, false, 4},               // bound 2: b goes
			{"a", 0, true, 4},                // a kept
			{"b", 0, false, 5},               // b was evicted
			{"c", 0, false, 6},               // and then c (a used last before b)
		}
		for i, s := range steps {
			time.Sleep(s.advance) // the bubble's clock, which RoundTrip reads
			info := get(s.user)
			if info.ResolverCacheHit != s.hit || api.lookups.Load() != s.lookups {
				t.Fatalf("step %d (%s): hit %v, lookups %d; want %v, %d", i, s.user, info.ResolverCacheHit, api.lookups.Load(), s.hit, s.lookups)
			}
		}
	})
}

// TestResolveSingleFlight: 50 callers needing the same user's account at
// once cause one lookup; they all get its answer.
func TestResolveSingleFlight(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		api := &accountsAPI{gate: make(chan struct{}), pages: func(url.Values) string { return page("", item("ca_1", "u1", "github", "ACTIVE")) }}
		tr := newResolveTransport(api)
		var wg sync.WaitGroup
		results := make([]string, 50)
		hits := make([]bool, 50)
		for i := range results {
			wg.Go(func() {
				body, info, err := userGet(context.Background(), tr, "u1")
				if err != nil {
					body = err.Error()
				}
				results[i], hits[i] = body, info.ResolverCacheHit
			})
		}
		synctest.Wait() // all 50 wait for the one lookup
		if n := api.lookups.Load(); n != 1 {
			t.Fatalf("%d lookups in flight, want 1", n)
		}
		close(api.gate)
		wg.Wait()
		for i, r := range results {
			if r != `{"account":"ca_1"}` || hits[i] {
				t.Fatalf("caller %d: %s (cache hit %v)", i, r, hits[i])
			}
		}
		if n := api.lookups.Load(); n != 1 {
			t.Errorf("%d lookups, want 1", n)
		}
	})
}

// TestResolveCallerDeadline: a caller whose deadline passes while the
// lookup is slow gets its own context's error at its deadline; the lookup
// goes on for the others and fills the cache.
func TestResolveCallerDeadline(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		api := &accountsAPI{gate: make(chan struct{}), pages: func(url.Values) string { return page("", item("ca_1", "u1", "github", "ACTIVE")) }}
		tr := newResolveTransport(api)
		patient := make(chan string, 1)
		go func() {
			body, _, err := userGet(context.Background(), tr, "u1")
			if err != nil {
				body = err.Error()
			}
			patient <- body
		}()
		synctest.Wait()
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_, _, err := userGet(ctx, tr, "u1")
		if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) != 2*time.Second {
			t.Fatalf("err = %v after %v, want the deadline after 2s", err, time.Since(start))
		}
		close(api.gate)
		if got := <-patient; got != `{"account":"ca_1"}` {
			t.Fatalf("patient caller: %s", got)
		}
		if _, info, err := userGet(context.Background(), tr, "u1"); err != nil || !info.ResolverCacheHit {
			t.Errorf("after the lookup: %v, hit %v", err, info.ResolverCacheHit)
		}
		// A caller whose context has already ended starts nothing.
		done, cancel2 := context.WithCancel(context.Background())
		cancel2()
		if _, _, err := tr.config().resolver.resolve(done, tr, tr.config(), resolveKey{"u9", "github"}, false); !errors.Is(err, context.Canceled) {
			t.Errorf("ended context: %v", err)
		}
		if n := api.lookups.Load(); n != 1 {
			t.Errorf("%d lookups, want 1", n)
		}
	})
}

// TestResolveTimeout: a lookup that hangs ends at ResolveOptions.Timeout
// even when its callers wait forever.
func TestResolveTimeout(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		api := &accountsAPI{gate: make(chan struct{}), pages: func(url.Values) string { return page("") }}
		tr := newResolveTransport(api)
		tr.Resolve.Timeout = 5 * time.Second
		start := time.Now()
		_, _, err := userGet(context.Background(), tr, "u1")
		if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) != 5*time.Second {
			t.Errorf("err = %v after %v", err, time.Since(start))
		}
	})
}

// TestResolveStale: when the proxy says the cached account is gone (404)
// or not active (422), the entry is dropped, the user's account looked up
// again and the call made with the new one.
func TestResolveStale(t *testing.T) {
	t.Parallel()
	for _, status := range []int{404, 422} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			t.Parallel()
			var current atomic.Value
			current.Store("ca_old")
			api := &accountsAPI{proxyStatus: map[string]int{}, pages: func(url.Values) string {
				return page("", item(current.Load().(string), "u1", "github", "ACTIVE"))
			}}
			tr := newResolveTransport(api)
			if body, _, err := userGet(context.Background(), tr, "u1"); err != nil || !strings.Contains(body, "ca_old") {
				t.Fatalf("first call: %s, %v", body, err)
			}
			api.mu.Lock()
			api.proxyStatus["ca_old"] = status
			api.mu.Unlock()
			current.Store("ca_new")
			body, info, err := userGet(context.Background(), tr, "u1")
			if err != nil || !strings.Contains(body, "ca_new") {
				t.Fatalf("after %d: %s, %v", status, body, err)
			}
			if info.ConnectedAccountID != "ca_new" || info.ResolverLookups != 1 || info.ResolverCacheHit || api.lookups.Load() != 2 {
				t.Errorf("CallInfo %+v, lookups %d", info, api.lookups.Load())
			}
			// The retried envelope is the first with only the account changed.
			api.mu.Lock()
			n := len(api.bodies)
			first, retried := api.bodies[n-2], api.bodies[n-1]
			api.mu.Unlock()
			if strings.Replace(first, "ca_old", "ca_new", 1) != retried {
				t.Errorf("retried envelope %s, first %s", retried, first)
			}
			if _, info, _ := userGet(context.Background(), tr, "u1"); !info.ResolverCacheHit || info.ConnectedAccountID != "ca_new" {
				t.Errorf("next call: %+v", info)
			}
		})
	}
	t.Run("same account again: the proxy's error", func(t *testing.T) {
		t.Parallel()
		api := &accountsAPI{proxyStatus: map[string]int{"ca_1": 422}, pages: func(url.Values) string { return page("", item("ca_1", "u1", "github", "ACTIVE")) }}
		tr := newResolveTransport(api)
		_, info, err := userGet(context.Background(), tr, "u1")
		var pe *Error
		if !errors.As(err, &pe) || pe.StatusCode != 422 || api.lookups.Load() != 2 || len(api.bodies) != 1 || info.ResolverLookups != 2 {
			t.Errorf("err %v, lookups %d, proxy calls %d, info %+v", err, api.lookups.Load(), len(api.bodies), info)
		}
	})
	t.Run("gone for good: no connected account", func(t *testing.T) {
		t.Parallel()
		var gone atomic.Bool
		api := &accountsAPI{proxyStatus: map[string]int{"ca_1": 404}, pages: func(url.Values) string {
			if gone.Load() {
				return page("")
			}
			return page("", item("ca_1", "u1", "github", "ACTIVE"))
		}}
		tr := newResolveTransport(api)
		api.proxyStatus["ca_1"] = 0
		userGet(context.Background(), tr, "u1")
		api.mu.Lock()
		api.proxyStatus["ca_1"] = 404
		api.mu.Unlock()
		gone.Store(true)
		if _, _, err := userGet(context.Background(), tr, "u1"); !errors.Is(err, ErrNoConnectedAccount) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("streamed body: evicted, not resent", func(t *testing.T) {
		t.Parallel()
		api := &accountsAPI{proxyStatus: map[string]int{}, pages: func(url.Values) string { return page("", item("ca_1", "u1", "github", "ACTIVE")) }}
		tr := newResolveTransport(api)
		userGet(context.Background(), tr, "u1")
		api.mu.Lock()
		api.proxyStatus["ca_1"] = 404
		api.mu.Unlock()
		ctx := WithToolkit(WithUser(context.Background(), "u1"), "github")
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "https://api.github.com/upload", strings.NewReader("binary data"))
		req.Header.Set("Content-Type", "application/octet-stream")
		_, err := tr.RoundTrip(req)
		var pe *Error
		if !errors.As(err, &pe) || pe.StatusCode != 404 || api.lookups.Load() != 1 {
			t.Fatalf("err %v, lookups %d", err, api.lookups.Load())
		}
		api.mu.Lock()
		api.proxyStatus["ca_1"] = 0
		api.mu.Unlock()
		if _, info, _ := userGet(context.Background(), tr, "u1"); info.ResolverCacheHit || api.lookups.Load() != 2 {
			t.Errorf("the stale entry was kept: %+v", info)
		}
	})
}

func TestResolveAccountMethod(t *testing.T) {
	t.Parallel()
	api := &accountsAPI{pages: func(url.Values) string {
		return page("", item("ca_1", "u1", "github", "ACTIVE", `"alias":"work","word_id":"w1"`))
	}}
	tr := newResolveTransport(api)
	a, err := tr.ResolveAccount(context.Background(), "u1", "github")
	want := ConnectedAccount{ID: "ca_1", UserID: "u1", Toolkit: "github", Status: "ACTIVE", Alias: "work", WordID: "w1", AuthConfigID: "ac_1",
		CreatedAt: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), UpdatedAt: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)}
	if err != nil || a != want {
		t.Fatalf("got %+v, %v", a, err)
	}
	if _, err := (&Transport{}).ResolveAccount(context.Background(), "u1", "github"); !errors.Is(err, ErrNoAPIKey) && err == nil {
		t.Errorf("unconfigured: %v", err)
	}
	// A listing error is the proxy's *Error, wrapped with user and toolkit.
	bad := &Transport{APIKey: "ak_wrong", BaseURL: "https://backend.test", Base: api}
	_, err = bad.ResolveAccount(context.Background(), "u1", "github")
	var pe *Error
	if !errors.As(err, &pe) || pe.StatusCode != 400 || !strings.Contains(err.Error(), `user "u1"`) || strings.Contains(err.Error(), "ak_wrong") {
		t.Errorf("err = %v", err)
	}
}

// BenchmarkSelection is what choosing the account costs per call, without
// the rest of the call: check (and for a user, choose, its account
// cached). It is the difference BenchmarkAccountSelection measures, free
// of the envelope and reply work that dominates there.
func BenchmarkSelection(b *testing.B) {
	api := &accountsAPI{pages: func(url.Values) string { return page("", item("ca_1", "u1", "github", "ACTIVE")) }}
	bg := context.Background()
	for _, tc := range []struct {
		name string
		ctx  context.Context
	}{
		{"account", WithConnectedAccount(bg, "ca_1")},
		{"user+toolkit_cached", WithToolkit(WithUser(bg, "u1"), "github")},
	} {
		b.Run(tc.name, func(b *testing.B) {
			tr := newResolveTransport(api)
			c := tr.config()
			req, _ := http.NewRequestWithContext(tc.ctx, http.MethodGet, "https://api.github.com/user", nil)
			b.ReportAllocs()
			for b.Loop() {
				cl, err := tr.check(req, c)
				if err == nil {
					err = tr.choose(req, c, &cl, nil)
				}
				if err != nil || cl.account != "ca_1" {
					b.Fatal(err, cl.account)
				}
			}
		})
	}
}
