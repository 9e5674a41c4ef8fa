package schemes_test

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/schemes"
)

// closeCount counts Close calls of a request body.
type closeCount struct {
	io.Reader
	mu sync.Mutex
	n  int
}

func (c *closeCount) Close() error { c.mu.Lock(); c.n++; c.mu.Unlock(); return nil }

// TestWithheldCredentials: a request off the connection's site goes out
// without credentials, reported to OnWithheld; with Strict it fails with
// ErrCredentialsWithheld before anything is sent, unless it is a redirect
// the http.Client follows.
func TestWithheldCredentials(t *testing.T) {
	t.Parallel()
	conn := &credentials.Connection{AuthScheme: credentials.BearerToken, ToolkitSlug: "github",
		Val: credentials.Val{Token: "ghp_x"}} // base URL from the toolkit: https://api.github.com
	for _, tt := range []struct {
		name     string
		strict   bool
		url      string
		redirect bool
		wantErr  bool
		withheld bool
	}{
		{"on site", false, "https://api.github.com/user", false, false, false},
		{"on site, strict", true, "https://api.github.com/user", false, false, false},
		{"off site", false, "https://ghe.example.com/api/v3/user", false, false, true},
		{"off site, strict", true, "https://ghe.example.com/api/v3/user", false, true, true},
		{"other port, strict", true, "https://api.github.com:8443/user", false, true, true},
		{"redirect off site, strict", true, "https://objects.githubusercontent.com/x", true, false, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			base := &recordingBase{}
			var reported []*schemes.WithheldError
			tr := &schemes.Transport{Connection: conn, Base: base, Strict: tt.strict,
				OnWithheld: func(r *http.Request, e *schemes.WithheldError) { reported = append(reported, e) }}
			body := &closeCount{Reader: strings.NewReader("x")}
			req, _ := http.NewRequest("POST", tt.url, body)
			if tt.redirect {
				req.Response = &http.Response{StatusCode: http.StatusFound}
			}
			resp, err := tr.RoundTrip(req)
			if tt.wantErr {
				var we *schemes.WithheldError
				if !errors.Is(err, schemes.ErrCredentialsWithheld) || !errors.As(err, &we) {
					t.Fatalf("err = %v, want a *WithheldError", err)
				}
				if base.got != nil {
					t.Error("request sent")
				}
				if !strings.Contains(err.Error(), "api.github.com") || strings.Contains(err.Error(), "ghp_x") {
					t.Errorf("error %q: want the site named, no secret", err)
				}
				if body.n != 1 {
					t.Errorf("body closed %d times", body.n)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if got := base.got.Header.Get("Authorization") != ""; got == tt.withheld {
					t.Errorf("Authorization sent %v, withheld %v", got, tt.withheld)
				}
			}
			// OnWithheld hears of requests sent without credentials, not
			// of those Strict refuses.
			if want := tt.withheld && !tt.wantErr; (len(reported) == 1) != want || len(reported) > 1 {
				t.Errorf("OnWithheld called %d times, want %v", len(reported), want)
			}
			if len(reported) == 1 && (reported[0].URL == "" || reported[0].Site != "https://api.github.com" || reported[0].Toolkit != "github") {
				t.Errorf("reported %+v", reported[0])
			}
		})
	}
}

// TestWithheldLoggedByDefault: without OnWithheld, a withheld request is
// a debug line on slog's default logger.
func TestWithheldLoggedByDefault(t *testing.T) { // not parallel: slog.SetDefault
	var buf strings.Builder
	var mu sync.Mutex
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(lockedWriter{&mu, &buf}, &slog.HandlerOptions{Level: slog.LevelDebug})))
	defer slog.SetDefault(old)
	tr := &schemes.Transport{Base: &recordingBase{}, Connection: &credentials.Connection{AuthScheme: credentials.BearerToken,
		ToolkitSlug: "github", Val: credentials.Val{Token: "ghp_x"}}}
	req, _ := http.NewRequest("GET", "https://ghe.example.com/api/v3/user?access_token=SECRET#frag", nil)
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	mu.Lock()
	line := buf.String()
	mu.Unlock()
	if !strings.Contains(line, "credentials withheld") || !strings.Contains(line, "site=https://api.github.com") ||
		strings.Contains(line, "SECRET") || strings.Contains(line, "ghp_x") || strings.Contains(line, "frag") {
		t.Errorf("log: %q", line)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
