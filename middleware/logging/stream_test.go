package logging_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"testing/synctest"
	"time"

	"github.com/composiohttp/composiohttp/middleware/logging"
)

// TestBodiesStreamEvents: with WithBodies, RoundTrip hands a
// server-sent-events response on at once, and the caller reads the first
// event while the server waits for it before sending the next. The line
// comes at the end of the stream, once. In a synctest bubble, an io.Pipe
// plays the connection: a RoundTrip that waits for more of the body than
// has been sent blocks durably, and synctest.Wait sees it.
func TestBodiesStreamEvents(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		pr, pw := io.Pipe()
		more := make(chan struct{})
		go func() { // the server
			io.WriteString(pw, "data: one\n\n")
			<-more
			io.WriteString(pw, "data: two\n\n")
			pw.Close()
		}()
		next := roundTripFunc(func(r *http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"text/event-stream"}}, Body: pr, Request: r}, nil
		})
		l, buf := newLogger(slog.LevelInfo)
		rt := logging.New(next, logging.WithLogger(l), logging.WithBodies(8<<20))
		req, _ := http.NewRequest(http.MethodGet, "https://api.example.com/events", nil)

		got := make(chan *http.Response, 1)
		go func() {
			resp, err := rt.RoundTrip(req)
			if err != nil {
				t.Error(err)
			}
			got <- resp
		}()
		synctest.Wait()
		var resp *http.Response
		select {
		case resp = <-got:
		default:
			t.Error("RoundTrip has not returned while the server waits for the first event to be read")
			close(more)
			if resp = <-got; resp != nil {
				resp.Body.Close()
			}
			return
		}
		defer resp.Body.Close()
		first := make(chan string, 1)
		go func() {
			p := make([]byte, 64)
			n, _ := resp.Body.Read(p)
			first <- string(p[:n])
		}()
		synctest.Wait()
		select {
		case s := <-first:
			if s != "data: one\n\n" {
				t.Errorf("first read %q", s)
			}
		default:
			t.Fatal("first event not readable before the server sends more")
		}
		if n := len(buf.lines(t)); n != 0 {
			t.Errorf("%d lines before the stream ended, want 0", n)
		}
		close(more)
		rest, err := io.ReadAll(resp.Body)
		if err != nil || string(rest) != "data: two\n\n" {
			t.Errorf("rest %q, %v", rest, err)
		}
		resp.Body.Close()
		lines := buf.lines(t)
		if len(lines) != 1 {
			t.Fatalf("%d lines, want 1", len(lines))
		}
		if b := lines[0]["response_body"]; b != "[22 bytes of text/event-stream, not shown]" {
			t.Errorf("response_body = %v", b)
		}
	})
}

// TestBodiesStreamOverHTTP: the same over a real connection: an
// httptest server writes one event, flushes, and waits until the client
// has read it. The context's deadline (just before the test's) only
// turns a hang into a failure.
func TestBodiesStreamOverHTTP(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: one\n\n")
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		io.WriteString(w, "data: two\n\n")
	}))
	defer srv.Close()
	defer srv.Client().CloseIdleConnections()

	ctx := context.Background()
	if d, ok := t.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, d.Add(-5*time.Second))
		defer cancel()
	}
	l, buf := newLogger(slog.LevelInfo)
	rt := logging.New(srv.Client().Transport, logging.WithLogger(l), logging.WithBodies(8<<20))
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/events", nil)
	resp, err := rt.RoundTrip(req)
	if err != nil {
		close(release)
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	var first string
	for range 2 {
		s, err := br.ReadString('\n')
		if err != nil {
			close(release)
			t.Fatalf("first event: %q, %v", first, err)
		}
		first += s
	}
	close(release)
	if first != "data: one\n\n" {
		t.Errorf("first event %q", first)
	}
	if n := len(buf.lines(t)); n != 0 {
		t.Errorf("%d lines before the stream ended, want 0", n)
	}
	rest, err := io.ReadAll(br)
	if err != nil || string(rest) != "data: two\n\n" {
		t.Errorf("rest %q, %v", rest, err)
	}
	resp.Body.Close()
	if n := len(buf.lines(t)); n != 1 {
		t.Errorf("%d lines, want 1", n)
	}
}

// readErrBody reads data, then fails with err; it counts its closes.
type readErrBody struct {
	r      io.Reader
	err    error
	mu     sync.Mutex
	closes int
}

func (b *readErrBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err == io.EOF && b.err != nil {
		err = b.err
	}
	return n, err
}

func (b *readErrBody) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closes++
	return nil
}

// TestBodiesLineWhen: the line is written once, when the caller reads the
// body to its end, when a read fails, or when the caller closes it first,
// whichever comes first, with what was read by then. Bodies reach the
// caller intact and redacted bodies stay redacted, however they are read.
func TestBodiesLineWhen(t *testing.T) {
	t.Parallel()
	boom := errors.New("connection reset")
	const js = `{"access_token":"SECRET1","user":{"login":"octo"}}`
	for _, tc := range []struct {
		name    string
		ctype   string
		body    string
		err     error
		max     int
		read    func(io.Reader) (string, error) // what the caller does before Close
		before  int                             // lines before Close
		want    string                          // response_body
		wantErr string                          // response_body_error
	}{
		{name: "read to EOF, one byte at a time", ctype: "application/json", body: js, max: 1 << 10,
			read: func(r io.Reader) (string, error) {
				b, err := io.ReadAll(iotest.OneByteReader(r))
				return string(b), err
			},
			before: 1, want: `{"access_token":"[REDACTED]","user":{"login":"octo"}}`},
		{name: "read to EOF, data with EOF", ctype: "application/json", body: js, max: 1 << 10,
			read: func(r io.Reader) (string, error) {
				b, err := io.ReadAll(iotest.DataErrReader(r))
				return string(b), err
			},
			before: 1, want: `{"access_token":"[REDACTED]","user":{"login":"octo"}}`},
		{name: "read to EOF, longer than the cap", ctype: "application/json", body: js, max: 10,
			read:   func(r io.Reader) (string, error) { b, err := io.ReadAll(r); return string(b), err },
			before: 1, want: "[10+ bytes of JSON, truncated, not shown]"},
		{name: "form longer than the cap", ctype: "application/x-www-form-urlencoded", body: "a=1&token=SECRET2&b=2", max: 12,
			read:   func(r io.Reader) (string, error) { b, err := io.ReadAll(iotest.HalfReader(r)); return string(b), err },
			before: 1, want: "a=1&token=[REDACTED]…"},
		{name: "form, secret after a semicolon", ctype: "application/x-www-form-urlencoded", body: "a=1;token=SECRET3;b=2", max: 1 << 10,
			read:   func(r io.Reader) (string, error) { b, err := io.ReadAll(r); return string(b), err },
			before: 1, want: "a=1;token=[REDACTED];b=2"},
		{name: "exactly the cap", ctype: "application/json", body: `{"a":1}`, max: 7,
			read:   func(r io.Reader) (string, error) { b, err := io.ReadAll(r); return string(b), err },
			before: 1, want: `{"a":1}`},
		{name: "closed after a partial read", ctype: "application/json", body: js, max: 1 << 10,
			read: func(r io.Reader) (string, error) {
				p := make([]byte, 5)
				n, err := io.ReadFull(r, p)
				return string(p[:n]), err
			},
			before: 0, want: "[5+ bytes of JSON, truncated, not shown]"},
		{name: "closed unread", ctype: "text/plain", body: "hello", max: 1 << 10,
			read:   func(io.Reader) (string, error) { return "", nil },
			before: 0, want: "[0+ bytes of text/plain, not shown]"},
		{name: "read error", ctype: "application/json", body: js[:20], err: boom, max: 1 << 10,
			read:   func(r io.Reader) (string, error) { b, err := io.ReadAll(r); return string(b), err },
			before: 1, want: "[20+ bytes of JSON, truncated, not shown]", wantErr: "connection reset"},
		{name: "read error after a whole JSON value", ctype: "application/json", body: js, err: boom, max: 1 << 10,
			read:   func(r io.Reader) (string, error) { b, err := io.ReadAll(r); return string(b), err },
			before: 1, want: `{"access_token":"[REDACTED]","user":{"login":"octo"}}`, wantErr: "connection reset"},
		{name: "closed after a decoder read the JSON value, end not seen", ctype: "application/json", body: js, max: 1 << 10,
			read: func(r io.Reader) (string, error) {
				var v any
				return "", json.NewDecoder(r).Decode(&v)
			},
			before: 0, want: `{"access_token":"[REDACTED]","user":{"login":"octo"}}`},
		{name: "read error, body not shown", ctype: "text/plain", body: "hello", err: boom, max: 1 << 10,
			read:   func(r io.Reader) (string, error) { b, err := io.ReadAll(r); return string(b), err },
			before: 1, want: "[5+ bytes of text/plain, not shown]", wantErr: "connection reset"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			body := &readErrBody{r: strings.NewReader(tc.body), err: tc.err}
			next := roundTripFunc(func(r *http.Request) (*http.Response, error) {
				return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {tc.ctype}}, Body: body, Request: r}, nil
			})
			l, buf := newLogger(slog.LevelInfo)
			rt := logging.New(next, logging.WithLogger(l), logging.WithBodies(tc.max))
			req, _ := http.NewRequest(http.MethodGet, "https://api.example.com/x", nil)
			resp, err := rt.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			if n := len(buf.lines(t)); n != 0 {
				t.Fatalf("%d lines before the body was read, want 0", n)
			}
			got, rerr := tc.read(resp.Body)
			if !errors.Is(rerr, tc.err) {
				t.Errorf("read error %v, want %v", rerr, tc.err)
			}
			if tc.before == 1 && got != tc.body {
				t.Errorf("caller read %q, want %q", got, tc.body)
			}
			if n := len(buf.lines(t)); n != tc.before {
				t.Errorf("%d lines before Close, want %d", n, tc.before)
			}
			resp.Body.Close()
			resp.Body.Close()
			resp.Body.Read(make([]byte, 8))
			lines := buf.lines(t)
			if len(lines) != 1 {
				t.Fatalf("%d lines after Close, want 1", len(lines))
			}
			if body.closes != 2 {
				t.Errorf("body closed %d times, want 2 (as the caller did)", body.closes)
			}
			m := lines[0]
			if m["response_body"] != tc.want {
				t.Errorf("response_body = %v, want %v", m["response_body"], tc.want)
			}
			if e, _ := m["response_body_error"].(string); e != tc.wantErr {
				t.Errorf("response_body_error = %q, want %q", e, tc.wantErr)
			}
			if strings.Contains(buf.buf.String(), "SECRET") {
				t.Errorf("secret in line: %s", buf.buf.String())
			}
		})
	}
}

// TestBodiesConcurrentCloseAndRead: a Close from another goroutine
// while a Read waits (how callers abort a stream) writes one line, and
// -race sees no conflict.
func TestBodiesConcurrentCloseAndRead(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		pr, pw := io.Pipe()
		go func() { io.WriteString(pw, "data: one\n\n") }()
		next := roundTripFunc(func(r *http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"text/event-stream"}}, Body: pr, Request: r}, nil
		})
		l, buf := newLogger(slog.LevelInfo)
		rt := logging.New(next, logging.WithLogger(l), logging.WithBodies(1<<10))
		req, _ := http.NewRequest(http.MethodGet, "https://api.example.com/events", nil)
		got := make(chan *http.Response, 1)
		go func() {
			resp, _ := rt.RoundTrip(req)
			got <- resp
		}()
		synctest.Wait()
		var resp *http.Response
		select {
		case resp = <-got:
		default:
			t.Error("RoundTrip waits for more of the body")
			pw.Close()
			<-got
			return
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			io.ReadAll(resp.Body)
		}()
		synctest.Wait() // the reader waits for more
		resp.Body.Close()
		<-done
		lines := buf.lines(t)
		if len(lines) != 1 {
			t.Fatalf("%d lines, want 1", len(lines))
		}
		if b := lines[0]["response_body"]; b != "[11+ bytes of text/event-stream, not shown]" {
			t.Errorf("response_body = %v", b)
		}
	})
}

// rwBody is an upgraded connection's body (101 Switching Protocols): it
// can be written to.
type rwBody struct {
	io.Reader
	written strings.Builder
}

func (b *rwBody) Write(p []byte) (int, error) { return b.written.Write(p) }
func (b *rwBody) Close() error                { return nil }

// TestBodiesSwitchingProtocols: the body of a 101 is the connection, an
// io.ReadWriteCloser; logging hands it on as it is, unread, and writes
// the line at once.
func TestBodiesSwitchingProtocols(t *testing.T) {
	t.Parallel()
	body := &rwBody{Reader: strings.NewReader("hello")}
	next := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 101, Header: http.Header{"Upgrade": {"websocket"}}, Body: body, Request: r}, nil
	})
	l, buf := newLogger(slog.LevelInfo)
	rt := logging.New(next, logging.WithLogger(l), logging.WithBodies(1<<10))
	req, _ := http.NewRequest(http.MethodGet, "https://api.example.com/ws", nil)
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	rw, ok := resp.Body.(io.ReadWriteCloser)
	if !ok {
		t.Fatalf("body %T is not an io.ReadWriteCloser", resp.Body)
	}
	if n := len(buf.lines(t)); n != 1 {
		t.Errorf("%d lines at return, want 1", n)
	}
	io.WriteString(rw, "hi")
	b, _ := io.ReadAll(rw)
	rw.Close()
	if string(b) != "hello" || body.written.String() != "hi" {
		t.Errorf("read %q, wrote %q", b, body.written.String())
	}
	lines := buf.lines(t)
	if len(lines) != 1 {
		t.Fatalf("%d lines, want 1", len(lines))
	}
	if _, ok := lines[0]["response_body"]; ok {
		t.Errorf("response_body logged for a 101: %v", lines[0])
	}
}

// trackedBody counts reads and closes.
type trackedBody struct {
	io.Reader
	mu     sync.Mutex
	closed bool
}

func (b *trackedBody) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	return nil
}

// TestBodiesRequestUntouched: logging a request body reads a copy from
// GetBody and closes it; the body below is the caller's, unread, and
// arrives whole; the caller's request is not modified; on every path.
func TestBodiesRequestUntouched(t *testing.T) {
	t.Parallel()
	const form = "name=n&password=SECRET1"
	for _, tc := range []struct {
		name       string
		getBody    bool
		getBodyErr error
		nextErr    error
		ctype      string
		clen       int64
		want       string
	}{
		{name: "replayable form", getBody: true, ctype: "application/x-www-form-urlencoded", clen: int64(len(form)), want: "name=n&password=[REDACTED]"},
		{name: "replayable, next fails", getBody: true, nextErr: errors.New("refused"), ctype: "application/x-www-form-urlencoded", clen: int64(len(form)), want: "name=n&password=[REDACTED]"},
		{name: "GetBody fails", getBody: true, getBodyErr: errors.New("gone"), ctype: "application/x-www-form-urlencoded", clen: int64(len(form)), want: "[not shown: gone]"},
		{name: "not replayable", ctype: "application/x-www-form-urlencoded", clen: int64(len(form)), want: "[not replayable, not shown]"},
		{name: "binary, length known", getBody: true, ctype: "application/octet-stream", clen: int64(len(form)), want: "[23 bytes of application/octet-stream, not shown]"},
		{name: "binary, length unknown", getBody: true, ctype: "application/octet-stream", clen: -1, want: "[23 bytes of application/octet-stream, not shown]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			orig := &trackedBody{Reader: strings.NewReader(form)}
			var copies []*trackedBody
			var getBody func() (io.ReadCloser, error)
			if tc.getBody {
				getBody = func() (io.ReadCloser, error) {
					if tc.getBodyErr != nil {
						return nil, tc.getBodyErr
					}
					c := &trackedBody{Reader: strings.NewReader(form)}
					copies = append(copies, c)
					return c, nil
				}
			}
			var sent string
			next := roundTripFunc(func(r *http.Request) (*http.Response, error) {
				if r.Body != orig {
					t.Errorf("body below is %T, not the caller's", r.Body)
				}
				b, _ := io.ReadAll(r.Body)
				r.Body.Close()
				sent = string(b)
				if tc.nextErr != nil {
					return nil, tc.nextErr
				}
				return &http.Response{StatusCode: 200, Header: http.Header{}, Body: http.NoBody, Request: r}, nil
			})
			l, buf := newLogger(slog.LevelInfo)
			rt := logging.New(next, logging.WithLogger(l), logging.WithBodies(8<<20))
			req, _ := http.NewRequest(http.MethodPost, "https://api.example.com/x", nil)
			req.Body, req.GetBody, req.ContentLength = orig, getBody, tc.clen
			req.Header.Set("Content-Type", tc.ctype)
			before := *req
			resp, err := rt.RoundTrip(req)
			if !errors.Is(err, tc.nextErr) {
				t.Fatalf("err = %v", err)
			}
			if resp != nil {
				resp.Body.Close()
			}
			if sent != form || !orig.closed {
				t.Errorf("upstream got %q, caller's body closed %v", sent, orig.closed)
			}
			for i, c := range copies {
				if !c.closed {
					t.Errorf("GetBody copy %d not closed", i)
				}
			}
			if req.Body != before.Body || req.ContentLength != before.ContentLength || req.Header.Get("Content-Type") != tc.ctype || req.Context() != before.Context() {
				t.Errorf("caller's request modified")
			}
			lines := buf.lines(t)
			if len(lines) != 1 {
				t.Fatalf("%d lines, want 1", len(lines))
			}
			if lines[0]["request_body"] != tc.want {
				t.Errorf("request_body = %v, want %v", lines[0]["request_body"], tc.want)
			}
		})
	}
}

// bodiesCall is one POST of a 2-byte JSON body answered with a 2-byte
// JSON body, read and closed, through rt.
func bodiesCall(rt http.RoundTripper) error {
	req, _ := http.NewRequest(http.MethodPost, "https://api.example.com/x", strings.NewReader("{}"))
	req.Header.Set("Content-Type", "application/json")
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return err
}

func tinyJSON(r *http.Request) (*http.Response, error) {
	r.Body.Close()
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader("{}")), Request: r}, nil
}

// TestBodiesSizedByArrival: WithBodies(8 MiB) on 2-byte bodies allocates
// what the bodies need, not what the option allows. Not parallel: it
// reads the process's allocation counter, which no parallel test moves
// while it runs (top-level parallel tests start after the sequential
// ones).
func TestBodiesSizedByArrival(t *testing.T) {
	rt := logging.New(roundTripFunc(tinyJSON), logging.WithLogger(slog.New(slog.NewJSONHandler(io.Discard, nil))), logging.WithBodies(8<<20))
	if err := bodiesCall(rt); err != nil { // warm up
		t.Fatal(err)
	}
	const calls = 20
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range calls {
		if err := bodiesCall(rt); err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	if per := (after.TotalAlloc - before.TotalAlloc) / calls; per > 64<<10 {
		t.Errorf("%d bytes allocated per call with 2-byte bodies, want under 64 KiB", per)
	}
}

// BenchmarkBodies: a call with 2-byte request and response bodies, with
// bodies logged up to 8 MiB and not logged.
func BenchmarkBodies(b *testing.B) {
	logger := slog.New(slog.NewJSONHandler(io.Discard, nil))
	for _, bc := range []struct {
		name string
		opts []logging.Option
	}{
		{"off", nil},
		{"8MiB", []logging.Option{logging.WithBodies(8 << 20)}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			rt := logging.New(roundTripFunc(tinyJSON), append(bc.opts, logging.WithLogger(logger))...)
			b.ReportAllocs()
			for b.Loop() {
				if err := bodiesCall(rt); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestBodiesNoLimit: WithBodies(math.MaxInt), "no limit", shows small
// bodies and allocates for what arrives.
func TestBodiesNoLimit(t *testing.T) {
	t.Parallel()
	next := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		r.Body.Close()
		return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(strings.NewReader(`{"token":"SECRET1","a":1}`)), Request: r}, nil
	})
	l, buf := newLogger(slog.LevelInfo)
	rt := logging.New(next, logging.WithLogger(l), logging.WithBodies(math.MaxInt))
	req, _ := http.NewRequest(http.MethodPost, "https://api.example.com/x", strings.NewReader(`{"password":"SECRET2","b":2}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	lines := buf.lines(t)
	if len(lines) != 1 {
		t.Fatalf("%d lines, want 1", len(lines))
	}
	if got := lines[0]["request_body"]; got != `{"b":2,"password":"[REDACTED]"}` {
		t.Errorf("request_body = %v", got)
	}
	if got := lines[0]["response_body"]; got != `{"a":1,"token":"[REDACTED]"}` {
		t.Errorf("response_body = %v", got)
	}

	req, _ = http.NewRequest(http.MethodPost, "https://api.example.com/x", strings.NewReader("12345"))
	req.Header.Set("Content-Type", "application/octet-stream")
	req.ContentLength = -1 // counted by reading
	if resp, err = rt.RoundTrip(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := buf.lines(t)[1]["request_body"]; got != "[5 bytes of application/octet-stream, not shown]" {
		t.Errorf("request_body = %v", got)
	}
}
