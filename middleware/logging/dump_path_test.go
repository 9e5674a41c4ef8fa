package logging_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/composiohttp/composiohttp/testutil"
)

// TestDumpRedactsPathAndEscapedEcho: a secret path parameter
// ("/app;jsessionid=…") is hidden in the envelope's endpoint and the
// curl line, and a secret the upstream echoes back decoded (the path, a
// query value escaped inside a value: c="y%3Bsig%3D…") is scrubbed from
// the reply, as RedactQuery reads the value.
func TestDumpRedactsPathAndEscapedEcho(t *testing.T) {
	t.Parallel()
	s := testutil.NewServer(t)
	s.AddUpstream("https://api.stripe.com", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		c := r.URL.Query().Get("c")
		dc, _ := url.QueryUnescape(c)
		_, sig, _ := strings.Cut(dc, "sig=")
		echo, _ := json.Marshal(map[string]string{"path": r.URL.Path, "c": c, "decoded": dc, "sig": sig})
		w.Write(echo)
	}))
	tr, out, ctx := dumpedStripe(s)
	req, _ := http.NewRequestWithContext(ctx, "GET", "https://api.stripe.com/v1/app;jsessionid=path_secret_1;v=2/x;sid=path_secret_2?page=2&c=y%253Bsig%253Descaped_secret", nil)
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "path_secret_1") || !strings.Contains(string(body), "escaped_secret") {
		t.Fatalf("the upstream did not echo what the test needs: %s", body)
	}
	dump := out.String()
	for _, secret := range []string{"path_secret_1", "path_secret_2", "escaped_secret"} {
		if strings.Contains(dump, secret) {
			t.Errorf("dump shows %q:\n%s", secret, dump)
		}
	}
	for _, want := range []string{"/v1/app;jsessionid=[REDACTED];v=2/x;sid=[REDACTED]", `"page"`} {
		if !strings.Contains(dump, want) {
			t.Errorf("dump lacks %q:\n%s", want, dump)
		}
	}
}
