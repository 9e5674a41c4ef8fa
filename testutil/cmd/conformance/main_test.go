package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/testutil"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// methodLog is an echo upstream that remembers the methods it served.
type methodLog struct {
	mu      sync.Mutex
	methods []string
	h       http.Handler
}

func newEcho(t *testing.T) (*httptest.Server, *methodLog) {
	l := &methodLog{h: echoHandler()}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.mu.Lock()
		l.methods = append(l.methods, r.Method)
		l.mu.Unlock()
		l.h.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	return ts, l
}

// newService starts an in-process fake standing in for the service, with
// the conformance accounts on the echo's origin.
func newService(t *testing.T, echoURL string) (url, key string) {
	srv := testutil.NewServer(t, testutil.WithAPIKey("ak_conformance_service_key_1234"))
	srv.AddAccount(testutil.Account{ID: "ca_conf", AuthScheme: credentials.NoAuth, BaseURL: echoURL,
		UserID: "conformance_user", Toolkit: "conformance"})
	srv.AddAccount(testutil.Account{ID: "ca_conf_inactive", AuthScheme: credentials.NoAuth, BaseURL: echoURL, Status: "INACTIVE"})
	return srv.URL, srv.APIKey
}

// goTool finds the go command.
func goTool(t *testing.T) string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	// Not on PATH: in $GOROOT/bin (runtime.GOROOT, which also gave the
	// root the test was built with, is deprecated).
	p := filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	if _, err := os.Stat(p); os.Getenv("GOROOT") == "" || err != nil {
		t.Fatalf("the go command is needed to build fakeproxy: not on PATH, nor in $GOROOT/bin (GOROOT=%q)", os.Getenv("GOROOT"))
	}
	return p
}

// startFakeproxy builds and starts testutil/cmd/fakeproxy with the
// accounts, on a free port, and returns its base URL.
func startFakeproxy(t *testing.T, echoURL, key string) string {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "fakeproxy")
	build := exec.Command(goTool(t), "build", "-o", bin, "github.com/composiohttp/composiohttp/testutil/cmd/fakeproxy")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building fakeproxy: %v\n%s", err, out)
	}
	accounts, _ := json.Marshal([]map[string]any{
		{"id": "ca_conf", "auth_scheme": "NO_AUTH", "base_url": echoURL, "user_id": "conformance_user", "toolkit": "conformance"},
		{"id": "ca_conf_inactive", "auth_scheme": "NO_AUTH", "base_url": echoURL, "status": "INACTIVE"},
	})
	accFile := filepath.Join(dir, "accounts.json")
	if err := os.WriteFile(accFile, accounts, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0", "-accounts", accFile, "-api-key", key)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "COMPOSIO_BASE_URL="); ok {
			go io.Copy(io.Discard, stdout)
			return u
		}
	}
	t.Fatalf("fakeproxy printed no base URL: %v", sc.Err())
	return ""
}

// TestFakeproxyAgainstTheFake is the CI run: every scenario, against
// fakeproxy as "the service" and the in-process fake, with no difference.
func TestFakeproxyAgainstTheFake(t *testing.T) {
	echo, _ := newEcho(t)
	const key = "ak_fakeproxy_conformance_5678"
	base := startFakeproxy(t, echo.URL, key)

	var out bytes.Buffer
	n, err := run(context.Background(), []string{
		"-base-url", base, "-api-key", key, "-account", "ca_conf", "-inactive-account", "ca_conf_inactive",
		"-target", echo.URL + "/conformance", "-allow-writes", "-v",
	}, &out, io.Discard, nil)
	if err != nil {
		t.Fatal(err)
	}
	report := out.String()
	t.Logf("report:\n%s", report)
	if n != 0 {
		t.Errorf("%d differences between fakeproxy and the fake", n)
	}
	for _, s := range scenarios() {
		if !strings.Contains(report, "  "+s.name+" (") && !strings.Contains(report, "  "+s.name+": ") {
			t.Errorf("scenario %q neither ran nor was reported skipped", s.name)
		}
	}
	// Only the endpoints the fake lacks may be skipped, and they say so.
	for _, line := range strings.Split(report, "\n") {
		if strings.HasPrefix(line, "  ") && strings.Contains(line, ": ") && !strings.HasPrefix(line, "    ") &&
			!strings.Contains(line, " (") && !strings.Contains(line, "the endpoint is absent") {
			t.Errorf("skipped for another reason than an absent endpoint: %s", line)
		}
	}
	if strings.Contains(report, key) {
		t.Error("the report holds the API key")
	}
	if !strings.Contains(report, "0 differences") {
		t.Error("no summary")
	}
}

// alterFake makes the fake misbehave like the service might: it drops
// falsy JSON fields from bodies (Composio issue #3324), omits
// X-RateLimit-Window-Size, and answers MissingAuthContext as a plain
// ValidationError.
func alterFake(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil {
			raw, _ := io.ReadAll(r.Body)
			var env map[string]any
			if json.Unmarshal(raw, &env) == nil && env["body"] != nil {
				env["body"] = dropFalsy(env["body"])
				raw, _ = json.Marshal(env)
			}
			r.Body = io.NopCloser(bytes.NewReader(raw))
			r.ContentLength = int64(len(raw))
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		for k, v := range rec.Header() {
			if k != "X-Ratelimit-Window-Size" && k != "Content-Length" {
				w.Header()[k] = v
			}
		}
		body := bytes.ReplaceAll(rec.Body.Bytes(), []byte(`"MissingAuthContext"`), []byte(`"ValidationError"`))
		w.WriteHeader(rec.Code)
		w.Write(body)
	})
}

func dropFalsy(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	for k, e := range m {
		switch e := e.(type) {
		case bool:
			if !e {
				delete(m, k)
			}
		case float64:
			if e == 0 {
				delete(m, k)
			}
		case map[string]any:
			if len(e) == 0 {
				delete(m, k)
			} else {
				m[k] = dropFalsy(e)
			}
		}
	}
	return m
}

func TestAlteredFakeShowsTheDifferences(t *testing.T) {
	t.Parallel()
	echo, _ := newEcho(t)
	base, key := newService(t, echo.URL)
	var out bytes.Buffer
	n, err := run(context.Background(), []string{
		"-base-url", base, "-api-key", key, "-account", "ca_conf", "-target", echo.URL + "/conformance", "-allow-writes",
	}, &out, io.Discard, &hooks{wrapFake: alterFake})
	if err != nil {
		t.Fatal(err)
	}
	report := out.String()
	t.Logf("report:\n%s", report)
	if n == 0 {
		t.Fatal("no differences found with an altered fake")
	}
	for _, row := range [][]string{
		{"JSON body with falsy fields", "reply.data", `"false\":false`},
		{"rate-limit headers", "proxy.header.X-RateLimit-Window-Size", "seconds (Ns)", "absent"},
		{"MissingAuthContext", "error.slug", "MissingAuthContext", "ValidationError"},
	} {
		found := false
		for _, line := range strings.Split(report, "\n") {
			all := true
			for _, cell := range row {
				all = all && strings.Contains(line, cell)
			}
			found = found || all
		}
		if !found {
			t.Errorf("no table row with %q", row)
		}
	}
	if !strings.Contains(report, "SCENARIO") || !strings.Contains(report, "SERVICE") || !strings.Contains(report, "FAKE") {
		t.Error("no table header")
	}
	if strings.Contains(report, key) {
		t.Error("the report holds the API key")
	}
}

// TestReadOnlyByDefault: without -allow-writes only GET and HEAD reach the
// target, and every write scenario is reported as skipped.
func TestReadOnlyByDefault(t *testing.T) {
	t.Parallel()
	echo, log := newEcho(t)
	base, key := newService(t, echo.URL)
	var out bytes.Buffer
	n, err := run(context.Background(), []string{
		"-base-url", base, "-api-key", key, "-account", "ca_conf", "-target", echo.URL + "/conformance",
	}, &out, io.Discard, nil)
	if err != nil || n != 0 {
		t.Fatalf("n=%d err=%v\n%s", n, err, out.String())
	}
	log.mu.Lock()
	defer log.mu.Unlock()
	for _, m := range log.methods {
		if m != http.MethodGet && m != http.MethodHead {
			t.Errorf("the target received a %s without -allow-writes", m)
		}
	}
	for _, s := range scenarios() {
		if s.write && !strings.Contains(out.String(), "  "+s.name+": ") {
			t.Errorf("write scenario %q not reported as skipped", s.name)
		}
	}
}

func TestFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-api-key", "k", "-target", "https://x"}, "-account is required"},
		{[]string{"-api-key", "k", "-account", "a"}, "-target is required"},
		{[]string{"-api-key", "k", "-account", "a", "-target", "x"}, "absolute http(s) URL"},
		{[]string{"-api-key", "k", "-account", "a", "-target", "https://x", "-fake-url", "http://f"}, "go together"},
		{[]string{"-api-key", "k", "extra"}, "unexpected arguments"},
	}
	for _, tt := range tests {
		_, err := run(context.Background(), tt.args, io.Discard, io.Discard, nil)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: err = %v, want %q", tt.args, err, tt.want)
		}
	}
}

func TestReportScrubsSecrets(t *testing.T) {
	t.Parallel()
	r := &report{secrets: []string{"ak_secret_key_123"}, full: true}
	in := `key ak_secret_key_123, Authorization: Bearer abcdefghijkl, https://s3.example.com/o?X-Amz-Signature=deadbeef&x=1`
	got := r.short(in)
	for _, bad := range []string{"ak_secret_key_123", "abcdefghijkl", "deadbeef"} {
		if strings.Contains(got, bad) {
			t.Errorf("scrubbed %q still holds %q", got, bad)
		}
	}
	if !strings.Contains(got, "x=1") {
		t.Errorf("scrubbing removed too much: %q", got)
	}
}

// TestQuirkMatchesAServiceWithTheDefect: a service that strips falsy JSON
// fields differs from the plain fake in exactly that scenario, and not
// from a fake given the quirk.
func TestQuirkMatchesAServiceWithTheDefect(t *testing.T) {
	t.Parallel()
	echo, _ := newEcho(t)
	srv := testutil.NewServer(t, testutil.WithStripFalsyJSON())
	srv.AddAccount(testutil.Account{ID: "ca_conf", AuthScheme: credentials.NoAuth, BaseURL: echo.URL,
		UserID: "conformance_user", Toolkit: "conformance"})
	for _, quirk := range []bool{false, true} {
		args := []string{"-base-url", srv.URL, "-api-key", srv.APIKey, "-account", "ca_conf",
			"-target", echo.URL + "/conformance", "-allow-writes"}
		if quirk {
			args = append(args, "-strip-falsy-json")
		}
		var out bytes.Buffer
		n, err := run(context.Background(), args, &out, io.Discard, nil)
		if err != nil {
			t.Fatal(err)
		}
		var rows []string
		for _, line := range strings.Split(out.String(), "\n") {
			if strings.HasPrefix(line, "JSON body with falsy fields") {
				rows = append(rows, line)
			}
		}
		switch {
		case quirk && n != 0:
			t.Errorf("with -strip-falsy-json: %d differences\n%s", n, out.String())
		case !quirk && (n == 0 || len(rows) != 1 || n != 2): // reply.data and response.body
			t.Errorf("without the quirk: %d differences, rows %q\n%s", n, rows, out.String())
		}
	}
}
