package composiohttp_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/composiohttp/composiohttp"
)

// Bodies over MaxInlineBody go through Transport.Upload, which stores them
// and returns a URL for the proxy. The Transport checks the UploadFunc's
// work before it calls the proxy: one that stops reading early (or
// returns a URL the proxy cannot fetch) fails the call with an
// *UploadError instead of sending a truncated upload.
func ExampleUploadFunc() {
	srv := startFake()
	defer srv.Close()
	video := bytes.Repeat([]byte{0xAB}, composiohttp.MaxInlineBody+1)

	careless := func(ctx context.Context, body io.Reader, size int64, contentType string) (string, error) {
		head := make([]byte, 1<<20)
		io.ReadFull(body, head) // the first MiB only
		return "https://uploads.example/video.mp4?X-Amz-Signature=0123abcd", nil
	}
	for _, upload := range []composiohttp.UploadFunc{careless, srv.Upload} {
		tr := &composiohttp.Transport{APIKey: srv.APIKey, BaseURL: srv.URL, ConnectedAccountID: "ca_alice", Upload: upload}
		req, _ := http.NewRequest(http.MethodPost, "https://api.github.com/videos", bytes.NewReader(video))
		req.Header.Set("Content-Type", "video/mp4")
		resp, err := tr.RoundTrip(req)
		var ue *composiohttp.UploadError
		switch {
		case errors.As(err, &ue):
			fmt.Printf("refused (ErrUpload %v): read %d of %d bytes\n", errors.Is(err, composiohttp.ErrUpload), ue.Read, ue.Size)
		case err != nil:
			fmt.Println(err)
		default:
			resp.Body.Close()
			fmt.Println(resp.Status)
		}
	}
	// Output:
	// refused (ErrUpload true): read 1048576 of 4194305 bytes
	// 200 OK
}
