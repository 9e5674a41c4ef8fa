package logging_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/middleware/logging"
	"github.com/composiohttp/composiohttp/testutil"
)

func TestE2ELines(t *testing.T) {
	t.Parallel()
	srv := testutil.NewServer(t)
	srv.AddAccount(testutil.Account{ID: "ca_1", Toolkit: "github", AuthScheme: credentials.OAuth2,
		Val: credentials.Val{AccessToken: "tok_SECRET"},
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/missing" {
				http.NotFound(w, r)
				return
			}
			io.WriteString(w, "ok")
		})})
	srv.Inject(testutil.Fault{Status: 502, Times: 1, Account: "ca_1"})
	l, buf := newLogger(slog.LevelInfo)
	rt := logging.New(srv.Transport(), logging.WithLogger(l), logging.WithHeaders())
	ctx := composiohttp.WithConnectedAccount(context.Background(), "ca_1")
	for _, path := range []string{"/fails", "/ok?api_key=SECRET", "/missing"} {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://api.github.com"+path, nil)
		req.Header.Set("Authorization", "Bearer SECRET")
		resp, err := rt.RoundTrip(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	lines := buf.lines(t)
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3", len(lines))
	}
	reqs := srv.Requests()
	for i, want := range []struct {
		level  string
		status float64
		url    string
	}{
		{"ERROR", 0, "https://api.github.com/fails"},
		{"INFO", 200, "https://api.github.com/ok?api_key=[REDACTED]"},
		{"WARN", 404, "https://api.github.com/missing"},
	} {
		m := lines[i]
		if m["level"] != want.level || m["url"] != want.url || m["account"] != "ca_1" || m["request_id"] != reqs[i].RequestID {
			t.Errorf("line %d: %v", i, m)
		}
		if s, _ := m["status"].(float64); s != want.status {
			t.Errorf("line %d: status %v, want %v", i, m["status"], want.status)
		}
	}
	if e, _ := lines[0]["error"].(string); !strings.Contains(e, "502") {
		t.Errorf("error line: %v", lines[0])
	}
	if strings.Contains(buf.buf.String(), "SECRET") || strings.Contains(buf.buf.String(), srv.APIKey) {
		t.Errorf("secret logged: %s", buf.buf.String())
	}
}
