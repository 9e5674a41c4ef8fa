package logging_test

import (
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/composiohttp/composiohttp/middleware/logging"
)

// A nil Option is skipped, as in retry and ratelimit.
func TestNilOption(t *testing.T) {
	t.Parallel()
	l, buf := newLogger(slog.LevelInfo)
	req, _ := http.NewRequest(http.MethodGet, "https://api.github.com/", nil)
	resp, err := logging.New(&stub{status: 200}, nil, logging.WithLogger(l), nil).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !strings.Contains(buf.buf.String(), `"status":200`) {
		t.Errorf("no line: %q", buf.buf.String())
	}
}
