package composiohttp_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/testutil"
)

// whoAmI is an upstream that answers with the account it was reached as.
func whoAmI(id string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"account":%q}`, id)
	})
}

func addUserAccount(s *testutil.Server, id, user, toolkit string) {
	s.AddAccount(testutil.Account{
		ID: id, UserID: user, Toolkit: toolkit,
		AuthScheme: credentials.BearerToken, Val: credentials.Val{Token: "tok_" + id},
		Handler: whoAmI(id),
	})
}

func getBody(t *testing.T, c *http.Client, ctx context.Context, url string) (string, error) {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b), nil
}

// TestUserAgainstFake: users resolved through the fake's listing get their
// own accounts, the toolkit derived from the host; the client sends only
// filters the API knows.
func TestUserAgainstFake(t *testing.T) {
	t.Parallel()
	s := testutil.NewServer(t)
	addUserAccount(s, "ca_alice_gh", "alice", "github")
	addUserAccount(s, "ca_alice_slack", "alice", "slack")
	addUserAccount(s, "ca_bob_gh", "bob", "github")
	c := s.Client()
	for _, tc := range []struct{ user, url, want string }{
		{"alice", "https://api.github.com/user", "ca_alice_gh"},
		{"bob", "https://api.github.com/user", "ca_bob_gh"},
		{"alice", "https://slack.com/api/auth.test", "ca_alice_slack"},
		{"alice", "https://api.github.com/user/repos", "ca_alice_gh"}, // cached
	} {
		got, err := getBody(t, c, composiohttp.WithUser(context.Background(), tc.user), tc.url)
		if err != nil || got != fmt.Sprintf(`{"account":%q}`, tc.want) {
			t.Errorf("%s %s: %s, %v; want %s", tc.user, tc.url, got, err, tc.want)
		}
	}
	_, err := getBody(t, c, composiohttp.WithUser(context.Background(), "bob"), "https://slack.com/api/auth.test")
	var nca *composiohttp.NoConnectedAccountError
	if !errors.As(err, &nca) || nca.UserID != "bob" || nca.Toolkit != "slack" {
		t.Errorf("bob's slack: %v", err)
	}
	if n := len(s.AccountListings()); n != 4 {
		t.Errorf("%d listings, want 4 (one per user and toolkit)", n)
	}
	if u := s.UnknownListParams(); len(u) != 0 {
		t.Errorf("the client sent query parameters the API does not know: %q", u)
	}
}

func TestCreateSessionAgainstFake(t *testing.T) {
	t.Parallel()
	s := testutil.NewServer(t)
	addUserAccount(s, "ca_old", "alice", "github")
	addUserAccount(s, "ca_new", "alice", "github")
	tr := s.Transport()
	ctx := context.Background()
	id, err := tr.CreateSession(ctx, "alice", nil)
	if err != nil {
		t.Fatal(err)
	}
	pinned, err := tr.CreateSession(ctx, "alice", &composiohttp.SessionOptions{ConnectedAccounts: map[string]string{"github": "ca_old"}})
	if err != nil {
		t.Fatal(err)
	}
	if info, ok := s.Session(pinned); !ok || info.UserID != "alice" || info.ConnectedAccounts["github"] != "ca_old" {
		t.Errorf("session %+v", info)
	}
	c := &http.Client{Transport: tr}
	for sess, want := range map[string]string{id: "ca_new", pinned: "ca_old"} {
		got, err := getBody(t, c, composiohttp.WithSession(ctx, sess), "https://api.github.com/user")
		if err != nil || got != fmt.Sprintf(`{"account":%q}`, want) {
			t.Errorf("session %s: %s, %v; want %s", sess, got, err, want)
		}
	}
	_, err = tr.CreateSession(ctx, "alice", &composiohttp.SessionOptions{ConnectedAccounts: map[string]string{"github": "ca_nope"}})
	var pe *composiohttp.Error
	if !errors.As(err, &pe) || pe.StatusCode != 404 {
		t.Errorf("pinning an unknown account: %v", err)
	}
	if _, err := tr.CreateSession(ctx, "", nil); !errors.Is(err, composiohttp.ErrBadRequest) {
		t.Errorf("no user: %v", err)
	}
	// A session without an account for the toolkit: the service's 404.
	_, err = getBody(t, c, composiohttp.WithSession(ctx, id), "https://slack.com/api/auth.test")
	if !errors.As(err, &pe) || pe.StatusCode != 404 || pe.Slug != composiohttp.SlugConnectedAccountNotFound {
		t.Errorf("no slack account: %v", err)
	}
}

// TestUserStaleAccountAgainstFake: the cached account expires; the fake's
// 422 makes the Transport look the user's account up again and use the
// new one, within the same call.
func TestUserStaleAccountAgainstFake(t *testing.T) {
	t.Parallel()
	s := testutil.NewServer(t)
	addUserAccount(s, "ca_1", "alice", "github")
	c := s.Client()
	ctx := composiohttp.WithUser(context.Background(), "alice")
	if got, err := getBody(t, c, ctx, "https://api.github.com/user"); err != nil || got != `{"account":"ca_1"}` {
		t.Fatalf("first: %s, %v", got, err)
	}
	s.AddAccount(testutil.Account{ID: "ca_1", UserID: "alice", Toolkit: "github", Status: "EXPIRED",
		AuthScheme: credentials.BearerToken, Val: credentials.Val{Token: "t"}})
	addUserAccount(s, "ca_2", "alice", "github")
	info := &composiohttp.CallInfo{}
	got, err := getBody(t, c, composiohttp.WithCallInfo(ctx, info), "https://api.github.com/user")
	if err != nil || got != `{"account":"ca_2"}` || info.ConnectedAccountID != "ca_2" || info.ResolverLookups != 1 {
		t.Fatalf("after expiry: %s, %v, %+v", got, err, info)
	}
	if n := len(s.AccountListings()); n != 2 {
		t.Errorf("%d listings, want 2", n)
	}
}
