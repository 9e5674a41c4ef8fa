package composiohttp_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/composiohttp/composiohttp"
)

// TestBinaryErrorHidesSignedURL: a Base whose error for the binary_data
// download quotes the signed URL (a *url.Error, as a Base built on
// http.Client returns) does not put the URL's signature into the error
// the caller reads.
func TestBinaryErrorHidesSignedURL(t *testing.T) {
	t.Parallel()
	const sig = "SECRETSIG0123456789"
	signed := "https://s3.example.com/bucket/obj.pdf?X-Amz-Expires=60&X-Amz-Signature=" + sig
	base := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.URL.Host == "s3.example.com" {
			return nil, &url.Error{Op: "Get", URL: r.URL.String(), Err: errors.New("connection reset by peer")}
		}
		if r.Body != nil {
			r.Body.Close()
		}
		reply := fmt.Sprintf(`{"status":200,"headers":{"content-type":"application/pdf"},"binary_data":{"url":%q,"content_type":"application/pdf","size":3}}`, signed)
		return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(strings.NewReader(reply)), ContentLength: int64(len(reply)), Request: r}, nil
	})
	tr := &composiohttp.Transport{APIKey: "ak_test", BaseURL: "https://proxy.example.com", ConnectedAccountID: "ca_1", Base: base}
	req, _ := http.NewRequest(http.MethodGet, "https://api.github.com/repos/o/r/zipball", nil)
	resp, err := tr.RoundTrip(req)
	if err == nil {
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	if err == nil {
		t.Fatal("no error for a failed download")
	}
	if !errors.Is(err, composiohttp.ErrBinaryBody) {
		t.Errorf("err = %v; want it to match ErrBinaryBody", err)
	}
	if strings.Contains(err.Error(), sig) {
		t.Errorf("the error shows the signed URL's signature: %v", err)
	}
}
