package logging_test

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
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/middleware/logging"
	"github.com/composiohttp/composiohttp/testutil"
)

// lockedBuffer is a bytes.Buffer safe for concurrent use.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// dumpedStripe returns s's Transport with Dump (writing to out) over its
// Base, and a context acting as a Stripe connection whose token is
// "sk_conn_secret".
func dumpedStripe(s *testutil.Server) (*composiohttp.Transport, *lockedBuffer, context.Context) {
	out := new(lockedBuffer)
	tr := s.Transport()
	tr.Base = logging.Dump(out, tr.Base)
	ctx := composiohttp.WithConnection(context.Background(), &credentials.Connection{
		AuthScheme: credentials.BearerToken, ToolkitSlug: "stripe",
		Val: credentials.Val{Token: "sk_conn_secret", BaseURL: "https://api.stripe.com"},
	})
	return tr, out, ctx
}

// TestDumpRedacts: the dump of a call shows the envelope and the reply
// with every secret replaced, and the key only as $COMPOSIO_API_KEY.
func TestDumpRedacts(t *testing.T) {
	t.Parallel()
	s := testutil.NewServer(t, testutil.WithAPIKey("ak_dump_secret"))
	s.AddUpstream("https://api.stripe.com", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Set-Cookie", "session=cookie_secret")
		// The upstream echoes a query value in a field of no secret name.
		echo, _ := json.Marshal(r.URL.Query().Get("a"))
		io.WriteString(w, `{"id":"bal_1","client_secret":"cs_reply_secret","nested":{"api_key":"k_reply_secret"},"echo":`+string(echo)+`}`)
	}))
	tr, out, ctx := dumpedStripe(s)
	req, _ := http.NewRequestWithContext(ctx, "POST", "https://api.stripe.com/v1/x?api_key=q_secret&page=2&a=1;sig=semi_secret&b=x%26token%3Damp_secret&x%3Bauth%3Dname_secret=1", strings.NewReader(`{"password":"body_secret","amount":5}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer hdr_secret")
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "cs_reply_secret") || !strings.Contains(string(body), "semi_secret") {
		t.Errorf("the caller's reply was changed: %s", body)
	}
	dump := out.String()
	for _, secret := range []string{"ak_dump_secret", "sk_conn_secret", "q_secret", "body_secret", "hdr_secret", "cs_reply_secret", "k_reply_secret", "cookie_secret",
		// A query value that reads as parameters of its own (a="1;sig=…",
		// b="x&token=…"): hidden as composiohttp.Parameter prints it.
		"semi_secret", "amp_secret",
		// A name that reads so (x%3Bauth%3D…=1: the name "x;auth=…").
		"name_secret"} {
		if strings.Contains(dump, secret) {
			t.Errorf("dump shows %q:\n%s", secret, dump)
		}
	}
	for _, want := range []string{"# envelope (redacted):", `"amount": 5`, `"page"`, "# reply: 200 OK", `"id": "bal_1"`, `-H "x-api-key: $COMPOSIO_API_KEY"`, "curl -sS -X POST '" + s.URL + "/api/v3.1/tools/execute/proxy'"} {
		if !strings.Contains(dump, want) {
			t.Errorf("dump lacks %q:\n%s", want, dump)
		}
	}
}

// TestDumpCurlReproduces: the curl line of a dump, run by a shell against
// the standalone fake (testutil/cmd/fakeproxy, built and started as a
// process), gets the same reply as the call that was dumped.
func TestDumpCurlReproduces(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("no curl on PATH (.ci/run installs it)")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH to build testutil/cmd/fakeproxy")
	}
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Date"] = nil // the same reply twice
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"path": r.URL.Path, "query": r.URL.RawQuery, "auth": r.Header.Get("Authorization"), "token": "t_secret"})
	}))
	defer up.Close()
	dir := t.TempDir()
	accounts := filepath.Join(dir, "accounts.json")
	os.WriteFile(accounts, []byte(`[{"id":"ca_up","toolkit":"up","auth_scheme":"BEARER_TOKEN","val":{"token":"tk"},"base_url":"`+up.URL+`/api"}]`), 0o600)
	bin := filepath.Join(dir, "fakeproxy")
	build := exec.Command(goBin, "build", "-o", bin, "github.com/composiohttp/composiohttp/testutil/cmd/fakeproxy")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build fakeproxy: %v\n%s", err, out)
	}
	// fakeproxy prints only a key it generated: the test names its own.
	const key = "ak_curl_test"
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0", "-accounts", accounts, "-api-key", key)
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	}()
	var baseURL string
	sc := bufio.NewScanner(stdout)
	for baseURL == "" && sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "COMPOSIO_BASE_URL="); ok {
			baseURL = u
		}
	}
	go io.Copy(io.Discard, stdout)
	if baseURL == "" {
		t.Fatalf("fakeproxy printed no base URL: %v", sc.Err())
	}

	var out lockedBuffer
	tr := &composiohttp.Transport{BaseURL: baseURL, APIKey: key,
		ConnectedAccountID: "ca_up", Base: logging.Dump(&out, nil)}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 30 * time.Second}).Get(up.URL + "/api/v1/thing?x=1&y=it's")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()

	dump := out.String()
	var line string
	for _, l := range strings.Split(dump, "\n") {
		if strings.HasPrefix(l, "curl ") {
			line = l
		}
	}
	if line == "" || strings.Contains(dump, key) {
		t.Fatalf("no curl line, or the key shown:\n%s", dump)
	}
	sh := exec.Command("sh", "-c", line)
	sh.Env = append(os.Environ(), "COMPOSIO_API_KEY="+key)
	got, err := sh.Output()
	if err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	// The dump shows the reply redacted: compare the curl reply redacted
	// the same way, as JSON.
	i := strings.Index(dump, "# reply: ")
	j := strings.Index(dump, "# reproduce:")
	var shown, again any
	jsonStart := strings.Index(dump[i:j], "{")
	if err := json.Unmarshal([]byte(dump[i+jsonStart:j]), &shown); err != nil {
		t.Fatalf("dumped reply: %v\n%s", err, dump)
	}
	var raw map[string]any
	if err := json.Unmarshal(got, &raw); err != nil {
		t.Fatalf("curl reply: %v\n%s", err, got)
	}
	if data, ok := raw["data"].(map[string]any); ok && data["token"] == "t_secret" && data["auth"] == "Bearer tk" {
		data["token"], data["auth"] = credentials.Redacted, credentials.Redacted // secret keys
	} else {
		t.Fatalf("curl reply: %s", got)
	}
	b, _ := json.Marshal(raw)
	json.Unmarshal(b, &again)
	if !reflect.DeepEqual(shown, again) {
		t.Errorf("curl got\n%s\nthe dump showed\n%s", b, dump[i+jsonStart:j])
	}
}
