// Package readahead puts back the bytes a middleware read ahead from a
// response body (to see whether it fits the cache, to log it) in front of
// the rest, so that the caller reads the body whole, as if nothing had been
// read, and any read error comes at the point where it happened.
package readahead

import (
	"bytes"
	"errors"
	"io"
)

// Rejoin returns a body that reads head and then what follows it: the rest
// of body when err is nil; nothing when err is io.EOF or
// io.ErrUnexpectedEOF (body was read to its end, as io.ReadFull reports
// it); err itself otherwise (the read failed after head). Closing it
// closes body.
func Rejoin(head []byte, err error, body io.ReadCloser) io.ReadCloser {
	var rest io.Reader = body
	switch {
	case err == nil:
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		rest = bytes.NewReader(nil)
	default:
		rest = errReader{err}
	}
	return readCloser{io.MultiReader(bytes.NewReader(head), rest), body}
}

type readCloser struct {
	io.Reader
	io.Closer
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
