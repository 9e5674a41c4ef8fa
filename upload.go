package composiohttp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"

	"github.com/composiohttp/composiohttp/internal/httpurl"
	"github.com/composiohttp/composiohttp/internal/urlredact"
)

// The Upload path: a body over MaxInlineBody goes to Transport.Upload,
// and the URL it returns to the proxy as binary_body.url. The Transport
// checks what the UploadFunc did before anything is sent: that it read
// the whole body (no more and no fewer bytes than the body holds), that
// the body's length is its ContentLength, and that the URL is one the
// proxy can fetch.

// ErrUpload: Transport.Upload failed, or did not keep its contract (see
// UploadFunc); nothing was sent to the proxy. The concrete error is
// *UploadError.
var ErrUpload = errors.New("composiohttp: upload of a large body failed")

// UploadError is a large body that Transport.Upload did not store as the
// Transport can send it; nothing was sent to the proxy. It matches
// ErrUpload with errors.Is, and errors.Is and errors.As reach Err: a body
// whose length differs from its ContentLength matches ErrBadRequest, as
// on the inline path. Its text never shows the URL the UploadFunc
// returned (a presigned URL carries its signature in its query), nor,
// in Err's text, the user info and secret query values of a URL that a
// *url.Error in Err's chain quotes (as the error of net/http's client,
// for a PUT to a presigned URL, does); Err itself is left as it was.
type UploadError struct {
	// Size is the body's length as declared (ContentLength), or -1 when
	// unknown.
	Size int64
	// Read is how many bytes of the body the UploadFunc read.
	Read int64
	// Reason says what went wrong, e.g. that the UploadFunc returned
	// before the end of the body, or that its URL is not an absolute
	// http(s) URL (named by its scheme at most).
	Reason string
	// Err is the cause, if any: the UploadFunc's own error, the body's
	// read error, or an error matching ErrBadRequest when the body's
	// length differs from its ContentLength.
	Err error
}

func (e *UploadError) Error() string {
	msg := "composiohttp: upload of a large body failed: " + e.Reason
	if e.Err != nil {
		msg += ": " + strings.TrimPrefix(redactURLErrors(e.Err), "composiohttp: ")
	}
	return msg
}

// redactURLErrors is err's text with the URL quoted by each *url.Error in
// its chain (Unwrap, and Unwrap []error) shown as redactedURL shows it.
func redactURLErrors(err error) string { return urlredact.ReplaceErrorURLs(err, redactedURL) }

// redactedCause is err's text as redactURLErrors shows it, for the Err
// field of a MarshalJSON, or nil when err is nil.
func redactedCause(err error) *string {
	if err == nil {
		return nil
	}
	s := redactURLErrors(err)
	return &s
}

// MarshalJSON encodes e's fields with Err as its text, redacted as in
// Error: json.Marshal would otherwise encode Err's exported fields, such
// as the URL of a *url.Error.
func (e UploadError) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Size   int64
		Read   int64
		Reason string
		Err    *string
	}{e.Size, e.Read, e.Reason, redactedCause(e.Err)})
}

// Is makes errors.Is(err, ErrUpload) true.
func (e *UploadError) Is(target error) bool { return target == ErrUpload }

// Unwrap returns the cause, if any.
func (e *UploadError) Unwrap() error { return e.Err }

// upload hands body (size bytes, -1 if unknown) to t.Upload and returns
// the URL to send as binary_body.url, after checking the context (a done
// context never reaches Upload), how much of the body the UploadFunc read,
// and the URL it returned. The caller's body is closed by RoundTrip.
func (t *Transport) upload(ctx context.Context, body io.Reader, size int64, ct string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("composiohttp: upload of a large body not started: %w", err)
	}
	r := &uploadBody{src: body, size: size}
	u, err := t.Upload(ctx, r, size, ct)
	read := r.n
	switch {
	case errors.Is(r.err, errBodyLength):
		return "", &UploadError{Size: size, Read: read, Reason: lengthReason(size, r), Err: errBodyLength}
	case err != nil:
		return "", &UploadError{Size: size, Read: read, Reason: "Transport.Upload returned an error", Err: err}
	case r.err != nil && r.err != io.EOF:
		return "", &UploadError{Size: size, Read: read, Reason: "reading the body", Err: r.err}
	case r.err == nil:
		// The UploadFunc returned without seeing the end of the body: it
		// may have read it all (exactly size bytes, or up to the end
		// without another Read), or stopped short. One more byte says.
		m, perr := r.Read(r.one[:])
		switch {
		case errors.Is(perr, errBodyLength):
			return "", &UploadError{Size: size, Read: read, Reason: lengthReason(size, r), Err: errBodyLength}
		case m > 0:
			return "", &UploadError{Size: size, Read: read, Reason: incompleteReason(size, read)}
		case perr != io.EOF:
			return "", &UploadError{Size: size, Read: read, Reason: "reading the body", Err: perr}
		}
	}
	if reason := uploadURLReason(u); reason != "" {
		return "", &UploadError{Size: size, Read: read, Reason: reason}
	}
	return u, nil
}

func lengthReason(size int64, r *uploadBody) string {
	if r.n < size {
		return "the body ended after " + strconv.FormatInt(r.n, 10) + " of its " + strconv.FormatInt(size, 10) + " bytes (ContentLength)"
	}
	return "the body is longer than its ContentLength of " + strconv.FormatInt(size, 10) + " bytes"
}

func incompleteReason(size, read int64) string {
	if size < 0 {
		return "Transport.Upload returned after reading " + strconv.FormatInt(read, 10) + " bytes, before the end of the body"
	}
	return "Transport.Upload returned after reading " + strconv.FormatInt(read, 10) + " of " + strconv.FormatInt(size, 10) + " bytes"
}

// uploadURLReason says why u cannot go as binary_body.url, or "" if it
// can: it must be an absolute http(s) URL with a host, the rule
// binary_data.url follows in replies (httpurl.Parse). The reason names
// the URL's scheme at most, never the URL.
func uploadURLReason(u string) string {
	if _, ok := httpurl.Parse(u); ok {
		return ""
	}
	const want = ", not an absolute http(s) URL"
	if u == "" {
		return "Transport.Upload returned an empty URL"
	}
	p, err := url.Parse(u)
	switch {
	case err != nil:
		return "Transport.Upload returned a URL that does not parse" + want
	case p.Scheme == "":
		return "Transport.Upload returned a relative URL" + want
	case p.Scheme == "http" || p.Scheme == "https":
		return "Transport.Upload returned an " + p.Scheme + " URL without a host"
	}
	return "Transport.Upload returned a " + strconv.Quote(p.Scheme) + " URL" + want
}

// uploadBody is the body as the UploadFunc reads it: it counts the bytes
// read, yields at most size bytes when size is known, and reports a body
// shorter or longer than size as errBodyLength instead of its end (as
// b64Reader does on the inline path). Its first error sticks.
type uploadBody struct {
	src  io.Reader
	size int64 // declared, -1 if unknown
	n    int64 // bytes read
	err  error // io.EOF once the end was read, errBodyLength, or src's error
	one  [1]byte
}

func (r *uploadBody) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	if r.size >= 0 {
		remain := r.size - r.n
		if remain == 0 { // all declared bytes read: the body must end here
			m, err := io.ReadFull(r.src, r.one[:])
			switch {
			case m > 0:
				r.err = errBodyLength
			case err == io.EOF:
				r.err = io.EOF
			default:
				r.err = err
			}
			return 0, r.err
		}
		if int64(len(p)) > remain {
			p = p[:remain]
		}
	}
	m, err := r.src.Read(p)
	r.n += int64(m)
	if err == io.EOF && r.size >= 0 && r.n < r.size {
		err = errBodyLength
	}
	if err != nil {
		r.err = err
	}
	return m, err
}
