package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"go/parser"
	"go/token"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/testutil"
)

// started is a fakeproxy run in process: what it printed, and how to stop
// it.
type started struct {
	out  string            // everything printed up to the base URL's line and the comment after it
	vars map[string]string // NAME=value lines
	stop func()
}

// start runs the command with args until the test ends, and returns what
// it printed before serving (the lines up to the SDK hint).
func start(t *testing.T, args ...string) *started {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"-addr", "127.0.0.1:0"}, args...), pw, io.Discard)
		pw.Close()
	}()
	s := &started{vars: map[string]string{}}
	var out strings.Builder
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		line := sc.Text()
		out.WriteString(line + "\n")
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(k, "#") {
			s.vars[k] = v
		}
		if strings.HasPrefix(line, "# Python SDK") {
			break
		}
	}
	go io.Copy(io.Discard, pr)
	s.out = out.String()
	var once sync.Once
	s.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("run: %v", err)
			}
		})
	}
	t.Cleanup(s.stop)
	if s.vars["COMPOSIO_BASE_URL"] == "" {
		s.stop()
		t.Fatalf("no base URL printed:\n%s", s.out)
	}
	return s
}

// status makes one proxy call with key and returns the proxy's status (200
// for a reply envelope).
func (s *started) status(t *testing.T, key string) int {
	t.Helper()
	tr := &composiohttp.Transport{BaseURL: s.vars["COMPOSIO_BASE_URL"], APIKey: key, ConnectedAccountID: "ca_expired"}
	defer tr.CloseIdleConnections()
	res, err := (&http.Client{Transport: tr}).Get("https://slack.com/api/auth.test")
	if err == nil {
		res.Body.Close()
		return res.StatusCode
	}
	var pe *composiohttp.Error
	if !errors.As(err, &pe) {
		t.Fatalf("call: %v", err)
	}
	return pe.StatusCode
}

// TestKeyNotAdoptedFromEnvironment: a COMPOSIO_API_KEY in the environment
// (perhaps a real key) is neither accepted nor printed unless a flag asks
// for it; the command generates its own key and prints that one.
func TestKeyNotAdoptedFromEnvironment(t *testing.T) {
	const real = "ak_live_REALLOOKINGkey0123456789"
	t.Setenv("COMPOSIO_API_KEY", real)
	s := start(t, "-accounts", "testdata/accounts.json")
	if strings.Contains(s.out, real) {
		t.Errorf("the environment's key was printed:\n%s", s.out)
	}
	key := s.vars["COMPOSIO_API_KEY"]
	if !strings.HasPrefix(key, "ak_test_") || len(key) < len("ak_test_")+16 {
		t.Errorf("generated key %q, want ak_test_ and random hex", key)
	}
	if st := s.status(t, real); st != http.StatusUnauthorized {
		t.Errorf("the environment's key was accepted: %d", st)
	}
	if st := s.status(t, key); st != http.StatusUnprocessableEntity { // ca_expired: the key passed
		t.Errorf("the generated key: %d", st)
	}
}

// TestKeyFromFlagsNotPrinted: a key named by -api-key, or read from the
// variable -api-key-env names, is accepted and never printed; neither is a
// user key; a fingerprint says which key it is.
func TestKeyFromFlagsNotPrinted(t *testing.T) {
	t.Setenv("FAKEPROXY_TEST_KEY", "ak_from_env_secret_42")
	t.Setenv("FAKEPROXY_TEST_USER_KEY", "uak_from_env_secret_43")
	tests := []struct {
		name    string
		args    []string
		key     string
		secrets []string
	}{
		{"-api-key", []string{"-api-key", "ak_from_flag_secret_41", "-user-api-key", "uak_from_flag_secret_44"},
			"ak_from_flag_secret_41", []string{"ak_from_flag_secret_41", "uak_from_flag_secret_44"}},
		{"-api-key-env", []string{"-api-key-env", "FAKEPROXY_TEST_KEY", "-user-api-key-env", "FAKEPROXY_TEST_USER_KEY"},
			"ak_from_env_secret_42", []string{"ak_from_env_secret_42", "uak_from_env_secret_43"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := start(t, append([]string{"-accounts", "testdata/accounts.json"}, tt.args...)...)
			for _, secret := range tt.secrets {
				if strings.Contains(s.out, secret) {
					t.Errorf("%s printed:\n%s", secret, s.out)
				}
			}
			if _, ok := s.vars["COMPOSIO_API_KEY"]; ok {
				t.Errorf("COMPOSIO_API_KEY= printed for a key the command did not generate:\n%s", s.out)
			}
			if !strings.Contains(s.out, "fingerprint "+fingerprint(tt.key)) {
				t.Errorf("no fingerprint of the key:\n%s", s.out)
			}
			if st := s.status(t, tt.key); st != http.StatusUnprocessableEntity {
				t.Errorf("the key: %d", st)
			}
		})
	}
}

// TestKeyFlagErrors: an empty or unset -api-key-env variable, and two
// sources for one key, are errors that quote no value.
func TestKeyFlagErrors(t *testing.T) {
	t.Setenv("FAKEPROXY_TEST_EMPTY", "")
	t.Setenv("FAKEPROXY_TEST_KEY", "ak_secret_value_9")
	for _, args := range [][]string{
		{"-api-key-env", "FAKEPROXY_TEST_EMPTY"},
		{"-api-key-env", "FAKEPROXY_TEST_UNSET_VARIABLE"},
		{"-user-api-key-env", "FAKEPROXY_TEST_EMPTY"},
		{"-api-key", "ak_x", "-api-key-env", "FAKEPROXY_TEST_KEY"},
		{"-user-api-key", "uak_x", "-user-api-key-env", "FAKEPROXY_TEST_KEY"},
	} {
		err := run(context.Background(), append([]string{"-addr", "127.0.0.1:0"}, args...), io.Discard, io.Discard)
		if err == nil || strings.Contains(err.Error(), "ak_secret_value_9") {
			t.Errorf("%q: %v", args, err)
		}
	}
}

// TestServerLimitFlags: the timeouts, header limit and connection cap come
// from the flags, with the documented defaults.
func TestServerLimitFlags(t *testing.T) {
	t.Parallel()
	o, err := parseFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	srv := newHTTPServer(o, http.NotFoundHandler())
	if srv.ReadHeaderTimeout != 10*time.Second || srv.ReadTimeout != time.Minute || srv.WriteTimeout != 2*time.Minute ||
		srv.IdleTimeout != 2*time.Minute || srv.MaxHeaderBytes != 1<<20 || o.maxConns != 64 || o.maxBody != 250<<20 || o.binaryStore != 512<<20 {
		t.Errorf("defaults: %+v, max conns %d, max body %d", srv, o.maxConns, o.maxBody)
	}
	o, err = parseFlags([]string{"-read-header-timeout", "1s", "-read-timeout", "2s", "-write-timeout", "3m",
		"-idle-timeout", "4s", "-max-header-bytes", "4096", "-max-conns", "5", "-max-body", "1024"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	srv = newHTTPServer(o, http.NotFoundHandler())
	if srv.ReadHeaderTimeout != time.Second || srv.ReadTimeout != 2*time.Second || srv.WriteTimeout != 3*time.Minute ||
		srv.IdleTimeout != 4*time.Second || srv.MaxHeaderBytes != 4096 || o.maxConns != 5 || o.maxBody != 1024 {
		t.Errorf("flags: %+v, max conns %d, max body %d", srv, o.maxConns, o.maxBody)
	}
	for _, args := range [][]string{
		{"-read-header-timeout", "0"}, {"-read-timeout", "0"}, {"-idle-timeout", "-1s"},
		{"-max-conns", "0"}, {"-max-body", "0"}, {"-max-upstream-reply", "0"}, {"-max-header-bytes", "0"}, {"-binary-store", "0"},
		{"-write-timeout", "10s"}, // not more than -upstream-timeout (30s): replies would be cut
	} {
		if _, err := parseFlags(args, io.Discard); err == nil {
			t.Errorf("%q accepted", args)
		}
	}
}

// TestSlowClientsAreCut: a client that never finishes its headers, or its
// body, is disconnected by the read timeouts (the test waits for the
// server to close the connection, not for a time).
func TestSlowClientsAreCut(t *testing.T) {
	t.Parallel()
	s := start(t, "-api-key", "ak_slow", "-read-header-timeout", "100ms", "-read-timeout", "200ms")
	addr := strings.TrimPrefix(s.vars["COMPOSIO_BASE_URL"], "http://")
	for name, send := range map[string]string{
		"headers": "POST /api/v3.1/tools/execute/proxy HTTP/1.1\r\nHost: x\r\nX-Api-Key: ak_slow\r\n",
		"body": "POST /api/v3.1/tools/execute/proxy HTTP/1.1\r\nHost: x\r\nX-Api-Key: ak_slow\r\n" +
			"Content-Type: application/json\r\nContent-Length: 262144000\r\n\r\n{",
	} {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(conn, send)
		conn.SetReadDeadline(time.Now().Add(30 * time.Second)) // a safety net only: the server closes long before
		_, err = io.Copy(io.Discard, conn)
		conn.Close()
		if err != nil {
			t.Errorf("%s: the server did not close the connection: %v", name, err)
		}
	}
}

// pipeListener is a net.Listener whose connections are net.Pipe ends,
// for a synctest bubble.
type pipeListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error   { l.once.Do(func() { close(l.done) }); return nil }
func (l *pipeListener) Addr() net.Addr { return &net.TCPAddr{} }

// TestMaxConns: with -max-conns 2, a third connection is not accepted
// until one of the first two closes.
func TestMaxConns(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		pl := &pipeListener{conns: make(chan net.Conn, 3), done: make(chan struct{})}
		ln := limitListener(pl, 2)
		defer ln.Close()
		var clients []net.Conn
		for range 3 {
			server, client := net.Pipe()
			pl.conns <- server
			clients = append(clients, client)
		}
		accepted := make(chan net.Conn, 3)
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				accepted <- c
			}
		}()
		synctest.Wait()
		if n := len(accepted); n != 2 {
			t.Fatalf("%d connections accepted, want 2", n)
		}
		(<-accepted).Close()
		synctest.Wait()
		if n := len(accepted); n != 2 {
			t.Fatalf("after one closed, %d more accepted, want the third", n-1)
		}
		for len(accepted) > 0 {
			(<-accepted).Close()
		}
		for _, c := range clients {
			c.Close()
		}
	})
}

// TestDocListsEveryFlag: the package doc names every flag, and gives each
// limit with its default, so that the doc and the command cannot drift.
func TestDocListsEveryFlag(t *testing.T) {
	t.Parallel()
	f, err := parser.ParseFile(token.NewFileSet(), "main.go", nil, parser.ParseComments|parser.PackageClauseOnly)
	if err != nil {
		t.Fatal(err)
	}
	doc := f.Doc.Text()
	documented := map[string]string{} // "-name value" lines of the limits table
	for _, line := range strings.Split(doc, "\n") {
		if fields := strings.Fields(line); len(fields) >= 2 && strings.HasPrefix(line, "\t-") {
			documented[strings.TrimPrefix(fields[0], "-")] = fields[1]
		}
	}
	fs := newFlagSet(&options{})
	fs.VisitAll(func(fl *flag.Flag) {
		if !strings.Contains(doc, "-"+fl.Name+" ") && !strings.Contains(doc, "-"+fl.Name+",") && !strings.Contains(doc, "-"+fl.Name+"\n") {
			t.Errorf("the package doc does not mention -%s", fl.Name)
		}
	})
	limits := []string{"read-header-timeout", "read-timeout", "write-timeout", "idle-timeout", "max-header-bytes",
		"max-conns", "max-body", "upstream-timeout", "max-upstream-reply", "binary-ttl", "binary-store"}
	for _, name := range limits {
		v, ok := documented[name]
		if !ok {
			t.Errorf("the limits table lacks -%s", name)
			continue
		}
		check := newFlagSet(&options{})
		if err := check.Set(name, v); err != nil {
			t.Errorf("-%s %s: %v", name, v, err)
		} else if got, want := check.Lookup(name).Value.String(), check.Lookup(name).DefValue; got != want {
			t.Errorf("the doc gives -%s %s, the default is %s", name, v, want)
		}
	}
}

// TestBinaryStoreFlag: -binary-store bounds the binary bodies the fake
// keeps: past it, the oldest URL answers 404.
func TestBinaryStoreFlag(t *testing.T) {
	t.Parallel()
	s := serverFromFlags(t, "-binary-store", "3000")
	s.AddAccount(testutil.Account{ID: "ca", AuthScheme: credentials.NoAuth,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Write(make([]byte, 2048))
		})})
	var urls []string
	for range 2 {
		req := httptest.NewRequest(http.MethodPost, "/api/v3.1/tools/execute/proxy", strings.NewReader(`{"connected_account_id":"ca","endpoint":"/b","method":"GET"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Api-Key", "ak_cmd")
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		var env composiohttp.ProxyResponse
		if err := json.Unmarshal(w.Body.Bytes(), &env); err != nil || env.BinaryData == nil {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
		urls = append(urls, env.BinaryData.URL)
	}
	var got []int
	for _, u := range urls {
		w := httptest.NewRecorder()
		s.ServeHTTP(w, httptest.NewRequest(http.MethodGet, u, nil))
		got = append(got, w.Code)
	}
	if got[0] != 404 || got[1] != 200 {
		t.Errorf("downloads %v, want [404 200]", got)
	}
}

// TestMaxUpstreamReplyFlag: -max-upstream-reply bounds the upstream reply
// the fake reads: at the limit the call succeeds, past it the fake answers
// 502 BadGateway.
func TestMaxUpstreamReplyFlag(t *testing.T) {
	t.Parallel()
	s := serverFromFlags(t, "-max-upstream-reply", "1024")
	for _, tt := range []struct {
		size, want int
	}{{1024, http.StatusOK}, {1025, http.StatusBadGateway}} {
		id := fmt.Sprint("ca_", tt.size)
		s.AddAccount(testutil.Account{ID: id, AuthScheme: credentials.NoAuth,
			Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/plain")
				w.Write(bytes.Repeat([]byte("x"), tt.size))
			})})
		req := httptest.NewRequest(http.MethodPost, "/api/v3.1/tools/execute/proxy",
			strings.NewReader(`{"connected_account_id":"`+id+`","endpoint":"/b","method":"GET"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Api-Key", "ak_cmd")
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code != tt.want {
			t.Errorf("a %d-byte reply: %d, want %d: %.200s", tt.size, w.Code, tt.want, w.Body)
		}
	}
}
