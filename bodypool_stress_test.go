package composiohttp

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// TestPooledReplyConcurrentCalls: many goroutines share one Transport,
// each reading its reply a different way (Read, WriteTo, partly then
// Close, Close before reading) while the others' closed bodies return
// buffers to the pool: every body read shows only its own call's bytes
// (run with -race).
func TestPooledReplyConcurrentCalls(t *testing.T) {
	t.Parallel()
	// Each reply names its call in every byte of its data: the request
	// carries the letter, the proxy echoes it 4 KiB long.
	base := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		i := bytes.Index(b, []byte(`"value":"`))
		letter := string(b[i+len(`"value":"`)])
		reply := `{"status":200,"headers":{"content-type":"text/plain"},"data":"` + strings.Repeat(letter, 4096) + `"}`
		return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(reply)), ContentLength: int64(len(reply)), Request: r}, nil
	})
	tr := &Transport{APIKey: "ak_x", BaseURL: "https://proxy.test", ConnectedAccountID: "ca_x", Base: base}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				letter := string(rune('A' + (g*7+i)%26))
				req, _ := http.NewRequest(http.MethodGet, "https://api.github.com/x?l="+letter, nil)
				resp, err := tr.RoundTrip(req)
				if err != nil {
					t.Error(err)
					return
				}
				want := strings.Repeat(letter, 4096)
				var got []byte
				switch i % 4 {
				case 0:
					got, _ = io.ReadAll(resp.Body)
				case 1:
					var buf bytes.Buffer
					resp.Body.(io.WriterTo).WriteTo(&buf)
					got = buf.Bytes()
				case 2:
					p := make([]byte, 100)
					n, _ := resp.Body.Read(p)
					got, want = p[:n], want[:100]
				case 3:
					resp.Body.Close()
					if n, err := resp.Body.Read(make([]byte, 10)); n != 0 || err == nil {
						t.Errorf("read %d bytes after Close, err %v", n, err)
					}
					continue
				}
				resp.Body.Close()
				if string(got) != want {
					t.Errorf("goroutine %d call %d: body %.20q..., want %.20q...", g, i, got, want)
					return
				}
			}
		})
	}
	wg.Wait()
}
