package logging_test

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/composiohttp/composiohttp/middleware/logging"
)

// botToken matches the token of a Telegram Bot API path.
var botToken = regexp.MustCompile(`^/bot[^/]+`)

func hideBotToken(u *url.URL) *url.URL {
	u.Path = botToken.ReplaceAllString(u.Path, "/botREDACTED")
	u.RawPath = ""
	return u
}

// Secrets in URL paths are logged as is by default, and hidden by
// WithURLRedactor, in the url attribute and in errors.
func TestURLRedactor(t *testing.T) {
	t.Parallel()
	const target = "https://api.telegram.org/bot123:SECRET1/sendMessage?chat_id=1"
	for _, tc := range []struct {
		redact bool
		err    error
	}{{false, nil}, {true, nil}, {true, &url.Error{Op: "Post", URL: target, Err: errors.New("boom")}}} {
		t.Run(fmt.Sprint(tc.redact, tc.err != nil), func(t *testing.T) {
			t.Parallel()
			l, buf := newLogger(slog.LevelInfo)
			opts := []logging.Option{logging.WithLogger(l)}
			if tc.redact {
				opts = append(opts, logging.WithURLRedactor(hideBotToken))
			}
			next := &stub{status: 200, err: tc.err}
			req, _ := http.NewRequest(http.MethodGet, target, nil)
			if resp, err := logging.New(next, opts...).RoundTrip(req); err == nil {
				resp.Body.Close()
			}
			if req.URL.String() != target {
				t.Errorf("caller's URL changed to %q", req.URL)
			}
			line := buf.buf.String()
			if strings.Contains(line, "SECRET1") == tc.redact {
				t.Errorf("redactor %v: %s", tc.redact, line)
			}
			if tc.redact && !strings.Contains(line, `"url":"https://api.telegram.org/botREDACTED/sendMessage?chat_id=1"`) {
				t.Errorf("url not redacted as asked: %s", line)
			}
		})
	}
}

// Bot API paths carry the bot's token: hide it in log lines.
func ExampleWithURLRedactor() {
	botToken := regexp.MustCompile(`^/bot[^/]+`)
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey || a.Key == "duration" {
				return slog.Attr{}
			}
			return a
		},
	}))
	rt := logging.New(
		roundTripFunc(func(r *http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: 200, Body: http.NoBody, Request: r}, nil
		}),
		logging.WithLogger(logger),
		logging.WithURLRedactor(func(u *url.URL) *url.URL {
			u.Path = botToken.ReplaceAllString(u.Path, "/botREDACTED")
			u.RawPath = ""
			return u
		}),
	)
	req, _ := http.NewRequest(http.MethodGet, "https://api.telegram.org/bot123:ABC/getMe", nil)
	resp, err := rt.RoundTrip(req)
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	// Output:
	// level=INFO msg="composiohttp request" method=GET url=https://api.telegram.org/botREDACTED/getMe status=200 retries=0 cache_hit=false
}
