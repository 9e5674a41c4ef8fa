package logging_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/composiohttp/composiohttp/middleware/logging"
)

// Headers whose values are URLs are logged with those URLs redacted like
// the url attribute; a value that does not parse is hidden whole.
func TestURLHeadersRedacted(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, header, value string
		want                string // in the JSON line
	}{
		{name: "presigned location", header: "Location",
			value: "https://bucket.s3.amazonaws.com/f?X-Amz-Signature=SECRET1&X-Amz-Expires=300",
			want:  `"Location":"https://bucket.s3.amazonaws.com/f?X-Amz-Signature=[REDACTED]&X-Amz-Expires=300"`},
		{name: "user info", header: "Content-Location", value: "https://user:SECRET2@h.example/x",
			want: `"Content-Location":"https://h.example/x"`},
		{name: "link", header: "Link",
			value: `<https://api.github.com/r?page=2&access_token=SECRET3>; rel="next", <https://api.github.com/r?page=9>; rel="last"`,
			want:  `"Link":"<https://api.github.com/r?page=2&access_token=[REDACTED]>; rel=\"next\", <https://api.github.com/r?page=9>; rel=\"last\""`},
		{name: "refresh", header: "Refresh", value: "5; url=https://h.example/?token=SECRET4",
			want: `"Refresh":"5; url=https://h.example/?token=[REDACTED]"`},
		{name: "unparsable", header: "Location", value: "https://h.example/%zz?sig=SECRET5",
			want: `"Location":"[REDACTED]"`},
		{name: "relative", header: "Location", value: "/next?code=SECRET6&state=s",
			want: `"Location":"/next?code=[REDACTED]&state=s"`},
		{name: "fragment", header: "Location", value: "https://app.example/cb#access_token=SECRET7&state=s",
			want: `"Location":"https://app.example/cb"`},
		{name: "secret after a semicolon", header: "Location", value: "https://h.example/cb?state=s;code=SECRET8",
			want: `"Location":"https://h.example/cb?state=s;code=[REDACTED]"`},
		{name: "link, secret after a semicolon", header: "Link",
			value: `<https://api.github.com/r?page=2;access_token=SECRET9>; rel="next"`,
			want:  `"Link":"<https://api.github.com/r?page=2;access_token=[REDACTED]>; rel=\"next\""`},
		{name: "secret path parameter", header: "Location", value: "https://h.example/app;jsessionid=SECRET10;v=2/x",
			want: `"Location":"https://h.example/app;jsessionid=[REDACTED];v=2/x"`},
		{name: "no secret kept as is", header: "Location", value: "https://h.example/a%2Fb?page=2",
			want: `"Location":"https://h.example/a%2Fb?page=2"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l, buf := newLogger(slog.LevelInfo)
			next := &stub{status: http.StatusFound, header: http.Header{tt.header: {tt.value}}}
			rt := logging.New(next, logging.WithLogger(l), logging.WithHeaders())
			req, _ := http.NewRequest(http.MethodGet, "https://api.github.com/x", nil)
			req.Header.Set(tt.header, tt.value) // request headers too
			resp, err := rt.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if got := resp.Header.Get(tt.header); got != tt.value {
				t.Errorf("caller got %s %q, want the upstream's", tt.header, got)
			}
			line := buf.buf.String()
			if strings.Contains(line, "SECRET") {
				t.Errorf("secret in line: %s", line)
			}
			if strings.Count(line, tt.want) != 2 {
				t.Errorf("line lacks %s twice (request and response): %s", tt.want, line)
			}
		})
	}
}

// TestURLFragmentDropped: a fragment such as #access_token=... in the
// request URL does not reach the url attribute.
func TestURLFragmentDropped(t *testing.T) {
	t.Parallel()
	l, buf := newLogger(slog.LevelInfo)
	rt := logging.New(&stub{status: 200}, logging.WithLogger(l))
	req, _ := http.NewRequest(http.MethodGet, "https://api.example.com/cb?page=2#access_token=SECRET8", nil)
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	line := buf.buf.String()
	if strings.Contains(line, "SECRET") || !strings.Contains(line, `"url":"https://api.example.com/cb?page=2"`) {
		t.Errorf("line: %s", line)
	}
}

// TestURLPathParamsHidden: a secret path parameter (a Java servlet's
// session, "/app;jsessionid=…") is hidden in the url attribute and in
// an error's text that quotes the URL; the request sent on keeps it.
func TestURLPathParamsHidden(t *testing.T) {
	t.Parallel()
	const target = "https://api.example.com/app;jsessionid=SECRET11;lang=en/x;sid=SECRET12?page=2"
	const shown = "https://api.example.com/app;jsessionid=[REDACTED];lang=en/x;sid=[REDACTED]?page=2"
	l, buf := newLogger(slog.LevelInfo)
	var sent string
	next := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		sent = r.URL.String()
		return nil, &url.Error{Op: "Get", URL: r.URL.String(), Err: io.ErrUnexpectedEOF}
	})
	req, _ := http.NewRequest(http.MethodGet, target, nil)
	if _, err := logging.New(next, logging.WithLogger(l)).RoundTrip(req); err == nil {
		t.Fatal("no error")
	}
	if sent != target {
		t.Errorf("URL sent on %q, want %q", sent, target)
	}
	line := buf.buf.String()
	if strings.Contains(line, "SECRET") || !strings.Contains(line, `"url":"`+shown+`"`) || !strings.Contains(line, `Get \"`+shown+`\"`) {
		t.Errorf("line: %s", line)
	}
}
