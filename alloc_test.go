package composiohttp

import (
	"errors"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"
)

// hostileProxy answers 200 declaring a reply of declared bytes and sends
// only a few before the body ends.
type hostileProxy struct{ declared int64 }

func (p hostileProxy) RoundTrip(r *http.Request) (*http.Response, error) {
	io.Copy(io.Discard, r.Body)
	r.Body.Close()
	return &http.Response{StatusCode: 200, Header: http.Header{}, ContentLength: p.declared,
		Body: io.NopCloser(strings.NewReader(`{"status":200,"data":"` + strings.Repeat("x", 1000))), Request: r}, nil
}

// A proxy reply's declared Content-Length is not allocated
// before the bytes arrive. Eight replies declaring 60 MiB each (under the
// default MaxResponseSize) used to cost 480 MiB; the buffer now grows as
// bytes arrive. Bytes allocated are measured with runtime.MemStats around
// the calls; the test is not parallel, so that no other test allocates
// meanwhile (parallel tests wait until the sequential ones are done).
func TestDeclaredLengthIsNotAllocatedUpFront(t *testing.T) {
	const declared = 60 << 20
	tr := &Transport{APIKey: "ak_test", BaseURL: "https://proxy.test", ConnectedAccountID: "ca_1", Base: hostileProxy{declared}}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range 8 {
		req, _ := http.NewRequest(http.MethodGet, "https://api.github.com/user", nil)
		_, err := tr.RoundTrip(req)
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("err = %v, want a truncated reply (unexpected EOF)", err)
		}
	}
	runtime.ReadMemStats(&after)
	if got := after.TotalAlloc - before.TotalAlloc; got > 8<<20 {
		t.Errorf("8 calls allocated %d MiB; want under 8 MiB (the replies declared %d MiB in all but sent 8 KiB)", got>>20, 8*declared>>20)
	}
}

// The growing read still returns exactly the declared bytes, and fails
// when the body is longer or shorter than declared.
func TestAppendBodyDeclaredLength(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("abcdefgh", 50_000) // 400 kB: several growths past the first 64 KiB
	for _, c := range []struct {
		name    string
		body    string
		n       int64
		want    string
		wantErr error
	}{
		{"exact, small", "hello", 5, "hello", nil},
		{"exact, past the initial allocation", big, int64(len(big)), big, nil},
		{"shorter than declared", big[:1000], int64(len(big)), "", io.ErrUnexpectedEOF},
		{"empty but declared", "", 10, "", io.ErrUnexpectedEOF},
		{"longer than declared", big, 1000, "", errBodyLength},
		{"declared over the limit", "x", 2 << 20, "", ErrBodyTooLarge},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got, err := appendBody([]byte("prefix"), io.MultiReader(strings.NewReader(c.body)), c.n, 1<<20)
			if !errors.Is(err, c.wantErr) || (c.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, c.wantErr)
			}
			if want := "prefix" + c.want; string(got) != want {
				t.Errorf("got %d bytes, want %d", len(got), len(want))
			}
		})
	}
}
