package testutil

import (
	"io"
	"net/http"
	"slices"
	"sync"
)

// Echo is a generic upstream for tests: it records every request it gets
// and answers it with itself. The reply is 200 (or Status) with the
// request's body byte for byte under the request's Content-Type, plus
// X-Echo-Method and X-Echo-Path (the request's method and path with its
// query). Use it as an Account's Handler, with AddUpstream, or behind an
// httptest.Server; through the fake, a JSON body comes back as JSON, text
// as text and anything else as a binary download, so a test can compare
// what it sent with what the upstream got, byte for byte. Its methods are
// safe for concurrent use; the zero Echo is ready to use.
type Echo struct {
	// Status is the status of every reply. Default: 200.
	Status int

	mu   sync.Mutex
	reqs []EchoRequest
}

// EchoRequest is a request an Echo received.
type EchoRequest struct {
	// Method, Host and Path (the request URI: path and query, secret
	// query values as credentials.RedactURL hides them, and those inside
	// an escaped value as composiohttp.Parameter prints them).
	Method string
	Host   string
	Path   string
	// Header holds the request headers, with the values of Authorization,
	// Proxy-Authorization, Cookie, X-Api-Key and X-User-Api-Key replaced
	// by "[REDACTED]" (the fake put the account's credentials there).
	Header http.Header
	// Body is the request body.
	Body []byte
}

// NewEcho returns an Echo that answers 200.
func NewEcho() *Echo { return &Echo{} }

// ServeHTTP records r and answers with it.
func (e *Echo) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r = withBody(r)
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "reading the request body: "+err.Error(), http.StatusBadRequest)
		return
	}
	path := shownURL(r.URL).RequestURI()
	h := r.Header.Clone()
	for k, vs := range h {
		if credentialHeader(k) {
			for i := range vs {
				vs[i] = redacted
			}
		}
	}
	e.mu.Lock()
	e.reqs = append(e.reqs, EchoRequest{Method: r.Method, Host: r.Host, Path: path, Header: h, Body: body})
	status := e.Status
	e.mu.Unlock()
	if status == 0 {
		status = http.StatusOK
	}
	if ct := r.Header.Get(headerContentType); ct != "" {
		w.Header().Set(headerContentType, ct)
	}
	w.Header().Set("X-Echo-Method", r.Method)
	w.Header().Set("X-Echo-Path", path)
	w.WriteHeader(status)
	w.Write(body)
}

// Requests returns copies of the requests received, in order.
func (e *Echo) Requests() []EchoRequest {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := slices.Clone(e.reqs)
	for i := range out {
		out[i].Header = out[i].Header.Clone()
		out[i].Body = slices.Clone(out[i].Body)
	}
	return out
}

// Last returns the latest request received, and whether there was one.
func (e *Echo) Last() (EchoRequest, bool) {
	reqs := e.Requests()
	if len(reqs) == 0 {
		return EchoRequest{}, false
	}
	return reqs[len(reqs)-1], true
}
