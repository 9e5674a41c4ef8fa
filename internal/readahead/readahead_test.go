package readahead

import (
	"errors"
	"io"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type body struct {
	io.Reader
	closes int
}

func (b *body) Close() error { b.closes++; return nil }

func TestRejoin(t *testing.T) {
	t.Parallel()
	boom := errors.New("connection reset")
	for _, tc := range []struct {
		name    string
		err     error
		want    string
		wantErr error
	}{
		{"more to come", nil, "headrest", nil},
		{"read to the end (EOF)", io.EOF, "head", nil},
		{"read to the end (unexpected EOF)", io.ErrUnexpectedEOF, "head", nil},
		{"failed after head", boom, "head", boom},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := &body{Reader: strings.NewReader("rest")}
			rc := Rejoin([]byte("head"), tc.err, b)
			got, err := io.ReadAll(rc)
			if string(got) != tc.want || !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("read %q, %v; want %q, %v", got, err, tc.want, tc.wantErr)
			}
			if rc.Close(); b.closes != 1 {
				t.Fatalf("body closed %d times", b.closes)
			}
		})
	}
}
