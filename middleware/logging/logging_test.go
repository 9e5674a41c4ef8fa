package logging_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/internal/benchcpu"
	"github.com/composiohttp/composiohttp/middleware/logging"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// stub plays the Transport: fills the CallInfo, answers status with body.
type stub struct {
	status int
	header http.Header
	body   string
	err    error
	info   *composiohttp.CallInfo // the CallInfo it saw
}

func (s *stub) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		r.Body.Close()
	}
	s.info = composiohttp.CallInfoFromContext(r.Context())
	if s.info != nil {
		s.info.ConnectedAccountID = "ca_1"
		s.info.Toolkit = "github"
		s.info.RequestID = "req_1"
		s.info.Retries = 1
	}
	if s.err != nil {
		return nil, s.err
	}
	h := s.header
	if h == nil {
		h = http.Header{}
	}
	return &http.Response{StatusCode: s.status, Header: h, Body: io.NopCloser(strings.NewReader(s.body)), Request: r}, nil
}

// logBuf collects JSON log lines.
type logBuf struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuf) lines(t *testing.T) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(b.buf.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("bad line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

func newLogger(level slog.Level) (*slog.Logger, *logBuf) {
	b := new(logBuf)
	return slog.New(slog.NewJSONHandler(b, &slog.HandlerOptions{Level: level})), b
}

// clock returns t0, then t0+42ms, ...
func clock() func() time.Time {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	n := 0
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		n++
		return t0.Add(time.Duration(n-1) * 42 * time.Millisecond)
	}
}

func TestLevelsAndAttributes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		next      *stub
		opts      []logging.Option
		logLevel  slog.Level
		wantLevel string // "" = no line
	}{
		{name: "200 info", next: &stub{status: 200}, wantLevel: "INFO"},
		{name: "304 info", next: &stub{status: 304}, wantLevel: "INFO"},
		{name: "404 warn", next: &stub{status: 404}, wantLevel: "WARN"},
		{name: "503 error", next: &stub{status: 503}, wantLevel: "ERROR"},
		{name: "proxy error", next: &stub{err: &composiohttp.Error{StatusCode: 502, Slug: "BadGateway"}}, wantLevel: "ERROR"},
		{name: "200 at debug", next: &stub{status: 200}, opts: []logging.Option{logging.WithSuccessLevel(slog.LevelDebug)}, logLevel: slog.LevelDebug, wantLevel: "DEBUG"},
		{name: "200 at debug filtered", next: &stub{status: 200}, opts: []logging.Option{logging.WithSuccessLevel(slog.LevelDebug)}, wantLevel: ""},
		{name: "200 filtered by warn", next: &stub{status: 200}, logLevel: slog.LevelWarn, wantLevel: ""},
		{name: "404 passes warn", next: &stub{status: 404}, logLevel: slog.LevelWarn, wantLevel: "WARN"},
		{name: "404 filtered by error", next: &stub{status: 404}, logLevel: slog.LevelError, wantLevel: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l, buf := newLogger(tt.logLevel)
			rt := logging.New(tt.next, append([]logging.Option{logging.WithLogger(l), logging.WithClock(clock())}, tt.opts...)...)
			req, _ := http.NewRequestWithContext(composiohttp.WithConnectedAccount(context.Background(), "ca_ctx"),
				http.MethodGet, "https://api.github.com/user?page=2&access_token=SECRET1", nil)
			resp, err := rt.RoundTrip(req)
			if (err != nil) != (tt.next.err != nil) {
				t.Fatalf("err = %v", err)
			}
			if resp != nil {
				resp.Body.Close()
			}
			lines := buf.lines(t)
			if tt.wantLevel == "" {
				if len(lines) != 0 {
					t.Fatalf("got lines %v, want none", lines)
				}
				return
			}
			if len(lines) != 1 {
				t.Fatalf("got %d lines, want 1", len(lines))
			}
			m := lines[0]
			want := map[string]any{
				"level": tt.wantLevel, "msg": logging.Message, "method": "GET",
				"url": "https://api.github.com/user?page=2&access_token=[REDACTED]", "duration": float64(42 * time.Millisecond),
				"account": "ca_1", "toolkit": "github", "request_id": "req_1", "retries": float64(1), "cache_hit": false,
			}
			if tt.next.err == nil {
				want["status"] = float64(tt.next.status)
			} else {
				want["error"] = tt.next.err.Error()
			}
			for k, v := range want {
				if m[k] != v {
					t.Errorf("%s = %v, want %v", k, m[k], v)
				}
			}
		})
	}
}

func TestFilteredDoesNothing(t *testing.T) {
	t.Parallel()
	l, buf := newLogger(slog.LevelError + 1)
	next := &stub{status: 500}
	req, _ := http.NewRequest(http.MethodGet, "https://api.example.com/", nil)
	if _, err := logging.New(next, logging.WithLogger(l)).RoundTrip(req); err != nil {
		t.Fatal(err)
	}
	if next.info != nil || len(buf.lines(t)) != 0 {
		t.Errorf("disabled logger: CallInfo %v, lines %v", next.info, buf.lines(t))
	}
}

func TestHeadersAndBodies(t *testing.T) {
	t.Parallel()
	const respBody = `{"access_token":"SECRET2","user":{"login":"octo","password":"SECRET3"},"items":[{"api_key":"SECRET4"}]}`
	next := &stub{status: 200, body: respBody, header: http.Header{
		"Set-Cookie":   {"session=SECRET5"},
		"Content-Type": {"application/json"},
		"X-Request-Id": {"abc"},
	}}
	for _, tc := range []struct {
		name string
		opts []logging.Option
		want []string
		not  []string
	}{
		{name: "default", want: []string{`"status":200`}, not: []string{"request_headers", "response_body", "octo"}},
		{name: "headers and bodies", opts: []logging.Option{logging.WithHeaders(), logging.WithBodies(1 << 10)},
			want: []string{`"Set-Cookie":"[REDACTED]"`, `"Authorization":"[REDACTED]"`, `"X-Api-Key":"[REDACTED]"`,
				`"X-User-Api-Key":"[REDACTED]"`, `"Proxy-Authorization":"[REDACTED]"`, `"Cookie":"[REDACTED]"`,
				`"X-Refresh-Token":"[REDACTED]"`, `"X-Request-Id":"abc"`, `"Accept":"application/json"`,
				`login\":\"octo`, `password=[REDACTED]`, `name=n`}},
		{name: "truncated json body not shown", opts: []logging.Option{logging.WithBodies(10)},
			want: []string{`"response_body":"[10+ bytes of JSON, truncated, not shown]"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, buf := newLogger(slog.LevelInfo)
			rt := logging.New(next, append(tc.opts, logging.WithLogger(l))...)
			req, _ := http.NewRequest(http.MethodPost, "https://api.example.com/login", strings.NewReader("name=n&password=SECRET6"))
			req.Header = http.Header{
				"Authorization": {"Bearer SECRET7"}, "X-Api-Key": {"SECRET8"}, "X-User-Api-Key": {"SECRET9"},
				"Proxy-Authorization": {"Basic SECRET10"}, "Cookie": {"a=SECRET11"}, "X-Refresh-Token": {"SECRET12"},
				"Accept": {"application/json"}, "Content-Type": {"application/x-www-form-urlencoded"},
			}
			resp, err := rt.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(b) != respBody {
				t.Errorf("caller got body %q", b)
			}
			line := buf.buf.String()
			if strings.Contains(line, "SECRET") {
				t.Errorf("secret in line: %s", line)
			}
			for _, w := range tc.want {
				if !strings.Contains(line, w) {
					t.Errorf("line lacks %s: %s", w, line)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(line, w) {
					t.Errorf("line has %s: %s", w, line)
				}
			}
		})
	}
}

// TestErrorURLRedacted: the URL of the line and the one a *url.Error
// quotes show no secret query value, whether parameters are separated by
// "&" or by ";" (which some servers split on), nor one inside an escaped
// value.
func TestErrorURLRedacted(t *testing.T) {
	t.Parallel()
	tests := []struct{ target, want string }{
		{"https://x.example/?token=SECRET1&a=b", "https://x.example/?token=[REDACTED]&a=b"},
		{"https://x.example/?a=1;access_token=SECRET2", "https://x.example/?a=1;access_token=[REDACTED]"},
		{"https://x.example/?a=1&b=2;sig=SECRET3;c=3", "https://x.example/?a=1&b=2;sig=[REDACTED];c=3"},
		// A secret inside an escaped value, read as a parameter by a
		// server that splits after decoding: the value is hidden whole.
		{"https://x.example/?b=2&a=1%3Baccess_token%3DSECRET4", "https://x.example/?b=2&a=[REDACTED]"},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			t.Parallel()
			l, buf := newLogger(slog.LevelInfo)
			next := &stub{err: &url.Error{Op: "Get", URL: tt.target, Err: errors.New("refused")}}
			req, _ := http.NewRequest(http.MethodGet, tt.target, nil)
			if _, err := logging.New(next, logging.WithLogger(l)).RoundTrip(req); err == nil {
				t.Fatal("want error")
			}
			m := buf.lines(t)[0]
			if want := `Get "` + tt.want + `": refused`; m["error"] != want {
				t.Errorf("error = %v, want %s", m["error"], want)
			}
			if m["url"] != tt.want {
				t.Errorf("url = %v, want %s", m["url"], tt.want)
			}
		})
	}
}

// BenchmarkOverhead compares the stub alone with the middleware: the
// 200's line filtered out by level (handler at Error), the handler enabled
// at no level a call can end with, and a line written to io.Discard.
func BenchmarkOverhead(b *testing.B) {
	next := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Header: http.Header{}, Body: http.NoBody, Request: r}, nil
	})
	filtered := slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelError}))
	off := slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelError + 1}))
	enabled := slog.New(slog.NewJSONHandler(io.Discard, nil))
	benchcpu.RoundTrips(b, "https://api.github.com/repos/a/b?page=2", []benchcpu.Named{
		{Name: "stub", RT: next},
		{Name: "filtered", RT: logging.New(next, logging.WithLogger(filtered))},
		{Name: "disabled", RT: logging.New(next, logging.WithLogger(off))},
		{Name: "logged", RT: logging.New(next, logging.WithLogger(enabled))},
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
