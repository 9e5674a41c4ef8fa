package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestTwoUsers drives alice and bob, interleaved and concurrently, through
// the service on the fake proxy: each gets their own GitHub login and
// repositories, never the other's; carol, who has no GitHub connection,
// gets a 404; and the service looked each user's account up once, with
// only filters the API knows.
func TestTwoUsers(t *testing.T) {
	fake := startFake()
	defer fake.Close()
	tr := fake.Transport()
	defer tr.CloseIdleConnections()
	svc := httptest.NewServer(newService(&http.Client{Transport: tr}))
	defer svc.Close()

	want := map[string]profile{
		"alice": {User: "alice", Login: "alice-gh", Repos: []string{"alice-gh/notes", "alice-gh/dotfiles"}},
		"bob":   {User: "bob", Login: "bobby", Repos: []string{"bobby/notes", "bobby/dotfiles"}},
	}
	var wg sync.WaitGroup
	for i := range 40 {
		user := []string{"alice", "bob"}[i%2]
		wg.Go(func() {
			status, body := get(t, svc.URL+"/users/"+user+"/github")
			var got profile
			if status != http.StatusOK || json.Unmarshal([]byte(body), &got) != nil {
				t.Errorf("%s: %d %s", user, status, body)
				return
			}
			w := want[user]
			if got.User != w.User || got.Login != w.Login || !slices.Equal(got.Repos, w.Repos) {
				t.Errorf("%s got %+v, want %+v", user, got, w)
			}
			other := map[string]string{"alice": "bobby", "bob": "alice-gh"}[user]
			if strings.Contains(body, other) {
				t.Errorf("%s sees the other user's data: %s", user, body)
			}
		})
	}
	wg.Wait()

	status, body := get(t, svc.URL+"/users/carol/github")
	if status != http.StatusNotFound || !strings.Contains(body, "user carol has not connected GitHub") {
		t.Errorf("carol: %d %s", status, body)
	}
	lookups := map[string]int{}
	for _, l := range fake.AccountListings() {
		lookups[l.Query.Get("user_ids")+"/"+l.Query.Get("toolkit_slugs")]++
	}
	if lookups["alice/github"] != 1 || lookups["bob/github"] != 1 {
		t.Errorf("lookups %v, want one per user", lookups)
	}
	if u := fake.UnknownListParams(); len(u) != 0 {
		t.Errorf("the lookups sent filters the API does not know: %q", u)
	}
}

func get(t *testing.T, url string) (int, string) {
	resp, err := http.Get(url)
	if err != nil {
		t.Error(err)
		return 0, ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestRun starts the command as go run does, on an ephemeral port, and
// stops it.
func TestRun(t *testing.T) {
	t.Setenv("COMPOSIO_API_KEY", "") // the fake, whatever the environment
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, "127.0.0.1:0", pw)
		pw.Close()
	}()
	buf := make([]byte, 4096)
	var out strings.Builder
	for !strings.Contains(out.String(), "/users/alice/github\n") {
		n, err := pr.Read(buf)
		if err != nil {
			t.Fatalf("output %q: %v", out.String(), err)
		}
		out.Write(buf[:n])
	}
	go io.Copy(io.Discard, pr)
	var addr string
	fmt.Sscanf(out.String()[strings.Index(out.String(), "curl ")+5:], "%s", &addr)
	status, body := get(t, addr)
	if status != http.StatusOK || !strings.Contains(body, `"github_login":"alice-gh"`) {
		t.Errorf("%s: %d %s", addr, status, body)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Error(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not stop")
	}
}
