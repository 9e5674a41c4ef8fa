// Package fakegithub is a small in-memory GitHub REST API for tests and
// examples, to serve as a testutil.Account's upstream: the authenticated
// user (GET /user), a repository's issues (GET and POST
// /repos/octocat/hello-world/issues, per_page honoured) and a zipball
// download (GET /repos/octocat/hello-world/zipball, binary). It checks the
// "Authorization: Bearer <token>" header the fake proxy puts on each
// forwarded request and answers 401 "Bad credentials" otherwise, and 404
// "Not Found" for any other path, in GitHub's error shape. Errors are
// GitHub's: 422 "Validation Failed" for an issue without a title.
//
//	srv := testutil.NewServer(t)
//	srv.AddAccount(fakegithub.Account("ca_gh", "gho_test"))
//	gh := github.NewClient(srv.Client()) // then set the Transport's ConnectedAccountID
package fakegithub

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"

	"github.com/composiohttp/composiohttp/internal/redact"

	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/testutil"
)

// Issue is the part of GitHub's issue object the examples use.
type Issue struct {
	Number int    `json:"number"`
	Title  string `json:"title"`
	Body   string `json:"body,omitempty"`
	State  string `json:"state"`
}

// Handler serves the fake API; make one with New. It is safe for
// concurrent use, and prints without its token.
type Handler struct {
	token string

	mu     sync.Mutex
	issues []Issue
}

// New returns a Handler that accepts token and has two open issues.
func New(token string) *Handler {
	return &Handler{token: token, issues: []Issue{
		{Number: 1, Title: "Found a bug", State: "open"},
		{Number: 2, Title: "Add dark mode", State: "open"},
	}}
}

// Issues returns a copy of the repository's issues, created ones included.
func (h *Handler) Issues() []Issue {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Issue(nil), h.issues...)
}

// String describes h without its token.
func (h *Handler) String() string {
	return fmt.Sprintf("fakegithub.Handler{Issues:%d}", len(h.Issues()))
}

// Format implements fmt.Formatter: every verb prints String, never the
// token.
func (h *Handler) Format(f fmt.State, verb rune) { redact.Format(f, verb, h.String(), h.String()) }

// ServeHTTP serves the API.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+h.token {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Bad credentials"})
		return
	}
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/user":
		writeJSON(w, http.StatusOK, map[string]any{"login": "octocat", "id": 583231, "name": "The Octocat"})
	case r.Method == http.MethodGet && r.URL.Path == "/repos/octocat/hello-world/issues":
		list := h.Issues()
		if n, err := strconv.Atoi(r.URL.Query().Get("per_page")); err == nil && n < len(list) {
			list = list[:n]
		}
		writeJSON(w, http.StatusOK, list)
	case r.Method == http.MethodPost && r.URL.Path == "/repos/octocat/hello-world/issues":
		var in Issue
		body := r.Body
		if body == nil { // a request built by hand (http.NewRequest without a body)
			body = http.NoBody
		}
		if err := json.NewDecoder(body).Decode(&in); err != nil || in.Title == "" {
			writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"message": "Validation Failed"})
			return
		}
		h.mu.Lock()
		in.Number, in.State = len(h.issues)+1, "open"
		h.issues = append(h.issues, in)
		h.mu.Unlock()
		writeJSON(w, http.StatusCreated, in)
	case r.Method == http.MethodGet && r.URL.Path == "/repos/octocat/hello-world/zipball":
		w.Header().Set("Content-Type", "application/zip")
		w.Write(Zipball)
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
	}
}

// Zipball is the archive the fake serves: an empty zip file.
var Zipball = []byte("PK\x05\x06\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00")

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// Account is a connected GitHub account on the fake proxy whose upstream is
// a new fake GitHub accepting token: what the examples register.
func Account(id, token string) testutil.Account {
	return testutil.Account{
		ID:         id,
		Toolkit:    "github",
		AuthScheme: credentials.OAuth2,
		Val:        credentials.Val{AccessToken: token},
		BaseURL:    "https://api.github.com",
		Handler:    New(token),
	}
}
