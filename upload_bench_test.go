package composiohttp

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"
)

// BenchmarkUploadFunc: an 8 MiB body through Transport.Upload (an
// UploadFunc that copies it to io.Discard), of known and unknown size,
// against an in-memory canned proxy: what the Upload path costs around
// the UploadFunc (the body read through the Transport's counting reader,
// the end-of-body check, the URL check).
func BenchmarkUploadFunc(b *testing.B) {
	body := make([]byte, 8<<20)
	upload := func(_ context.Context, r io.Reader, _ int64, _ string) (string, error) {
		_, err := io.Copy(io.Discard, r)
		return "https://uploads.test/obj?X-Amz-Signature=abc", err
	}
	for _, size := range []struct {
		name string
		clen int64
	}{{"known size", int64(len(body))}, {"unknown size", -1}} {
		b.Run(size.name, func(b *testing.B) {
			tr := &Transport{APIKey: "ak_bench", BaseURL: "https://proxy.test", ConnectedAccountID: "ca_bench",
				Base: &cannedProxy{reply: []byte(okReply)}, Upload: upload}
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				req, _ := http.NewRequest(http.MethodPut, "https://api.github.com/upload", nil)
				req.Body = io.NopCloser(bytes.NewReader(body))
				req.ContentLength = size.clen
				req.Header.Set("Content-Type", "video/mp4")
				resp, err := tr.RoundTrip(req)
				if err != nil {
					b.Fatal(err)
				}
				resp.Body.Close()
			}
		})
	}
}
