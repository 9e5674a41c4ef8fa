// Command multitenant is a small HTTP service that serves each of its
// users their own GitHub data through google/go-github, choosing the
// Composio connected account by user id alone:
//
//	go run ./examples/multitenant            # on the built-in fake proxy, users alice and bob
//	curl http://127.0.0.1:8081/users/alice/github
//
// Each request names a user (here in the path; a real service takes it
// from its own authentication). The handler puts the user id in the
// request context with composiohttp.WithUser; the Transport derives the
// toolkit from the host go-github calls (api.github.com is "github",
// through schemes.DefaultToolkits), looks up that user's ACTIVE GitHub
// account once with Composio's connected-accounts API, caches it, and
// sends the calls through the proxy as that account. A user without a
// GitHub connection gets a 404 that says so, never someone else's data.
//
// With COMPOSIO_API_KEY set, the service uses the real Composio instead
// of the fake.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/google/go-github/v75/github"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/schemes"
	"github.com/composiohttp/composiohttp/testutil"
)

func main() {
	log.SetFlags(0)
	addr := flag.String("addr", "127.0.0.1:8081", "address to serve on")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *addr, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// run serves the service on addr until ctx ends, on the fake proxy
// unless COMPOSIO_API_KEY is set.
func run(ctx context.Context, addr string, out io.Writer) error {
	tr := &composiohttp.Transport{Toolkits: schemes.DefaultToolkits}
	if os.Getenv("COMPOSIO_API_KEY") == "" {
		fake := startFake()
		defer fake.Close()
		tr = fake.Transport() // the fake's key and URL; its Toolkits are its registry
		fmt.Fprintln(out, "on the fake proxy: users alice and bob have GitHub connected, carol has not")
	}
	defer tr.CloseIdleConnections()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: newService(&http.Client{Transport: tr}), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(out, "try: curl http://%s/users/alice/github\n", ln.Addr())
	// The module's commands share this loop (internal/httpserve); an
	// example spells it out, as it imports only what your program can.
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}

// newService is the HTTP service: GET /users/{user}/github answers with
// the user's GitHub login and repositories, fetched as the user's own
// connected account.
func newService(client *http.Client) http.Handler {
	gh := github.NewClient(client) // one client for every user
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{user}/github", func(w http.ResponseWriter, r *http.Request) {
		userID := r.PathValue("user")
		ctx := composiohttp.WithUser(r.Context(), userID)
		me, _, err := gh.Users.Get(ctx, "")
		if err != nil {
			writeError(w, userID, err)
			return
		}
		repos, _, err := gh.Repositories.ListByAuthenticatedUser(ctx, nil)
		if err != nil {
			writeError(w, userID, err)
			return
		}
		page := profile{User: userID, Login: me.GetLogin()}
		for _, repo := range repos {
			page.Repos = append(page.Repos, repo.GetFullName())
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(page)
	})
	return mux
}

// profile is what the service answers.
type profile struct {
	User  string   `json:"user"`
	Login string   `json:"github_login"`
	Repos []string `json:"repos"`
}

func writeError(w http.ResponseWriter, userID string, err error) {
	status := http.StatusBadGateway
	msg := "GitHub could not be reached for this user"
	var amb *composiohttp.AmbiguousAccountError
	switch {
	case errors.Is(err, composiohttp.ErrNoConnectedAccount):
		status, msg = http.StatusNotFound, fmt.Sprintf("user %s has not connected GitHub", userID)
	case errors.As(err, &amb):
		status, msg = http.StatusConflict, fmt.Sprintf("user %s has %d GitHub accounts connected; choose one", userID, len(amb.Accounts))
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

// startFake starts the fake proxy with alice's and bob's GitHub accounts,
// each reaching a GitHub of its own, and an account of another toolkit.
func startFake() *testutil.Server {
	fake := testutil.NewUnstartedServer()
	fake.Start()
	for _, u := range []struct{ id, login string }{{"alice", "alice-gh"}, {"bob", "bobby"}} {
		token := "gho_" + u.id
		fake.AddAccount(testutil.Account{
			ID: "ca_github_" + u.id, UserID: u.id, Toolkit: "github",
			AuthScheme: credentials.OAuth2, Val: credentials.Val{AccessToken: token},
			Handler: userGitHub(token, u.login),
		})
	}
	fake.AddAccount(testutil.Account{
		ID: "ca_slack_carol", UserID: "carol", Toolkit: "slack",
		AuthScheme: credentials.OAuth2, Val: credentials.Val{AccessToken: "xoxp-carol"},
	})
	return fake
}

// userGitHub is one user's GitHub: GET /user and GET /user/repos, for the
// bearer token only.
func userGitHub(token, login string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		if r.Header.Get("Authorization") != "Bearer "+token {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"message":"Bad credentials"}`)
			return
		}
		switch r.URL.Path {
		case "/user":
			fmt.Fprintf(w, `{"login":%q}`, login)
		case "/user/repos":
			var repos []string
			for _, name := range []string{"notes", "dotfiles"} {
				repos = append(repos, fmt.Sprintf(`{"full_name":%q}`, login+"/"+name))
			}
			fmt.Fprintf(w, "[%s]", strings.Join(repos, ","))
		default:
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"message":"Not Found"}`)
		}
	})
}
