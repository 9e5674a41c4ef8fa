package composiohttp

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Where binary_data downloads may go. By default: https only
// when BaseURL is https (http too when BaseURL is http, as with the fake);
// never a link-local, multicast or unspecified address (169.254.169.254,
// the cloud metadata service, is link-local); loopback only when BaseURL
// is loopback too; and Transport.AllowDownload may veto any URL.
func TestDownloadPolicy(t *testing.T) {
	t.Parallel()
	errVeto := errors.New("not our bucket")
	veto := func(u *url.URL) error {
		if u.Hostname() != "bucket.s3.amazonaws.com" {
			return errVeto
		}
		return nil
	}
	for _, c := range []struct {
		name    string
		base    string
		url     string
		hook    func(*url.URL) error
		wantErr error // nil: allowed and fetched
	}{
		{"https from an https proxy", "https://backend.composio.dev", "https://bucket.s3.amazonaws.com/f?X-Amz-Signature=sig", nil, nil},
		{"http from an https proxy", "https://backend.composio.dev", "http://bucket.s3.amazonaws.com/f?X-Amz-Signature=sig", nil, ErrDownloadNotAllowed},
		{"metadata service", "https://backend.composio.dev", "https://169.254.169.254/latest/meta-data/?X-Amz-Signature=sig", nil, ErrDownloadNotAllowed},
		{"metadata service, http proxy", "http://127.0.0.1:8080", "http://169.254.169.254/latest/meta-data/?X-Amz-Signature=sig", nil, ErrDownloadNotAllowed},
		{"IPv6 link-local", "https://backend.composio.dev", "https://[fe80::1]/f?X-Amz-Signature=sig", nil, ErrDownloadNotAllowed},
		{"AWS IPv6 metadata", "https://backend.composio.dev", "https://[fd00:ec2::254]/f?X-Amz-Signature=sig", nil, ErrDownloadNotAllowed},
		{"unspecified address", "https://backend.composio.dev", "https://0.0.0.0/f?X-Amz-Signature=sig", nil, ErrDownloadNotAllowed},
		{"loopback from a remote proxy", "https://backend.composio.dev", "https://127.0.0.1/f?X-Amz-Signature=sig", nil, ErrDownloadNotAllowed},
		{"IPv6 loopback from a remote proxy", "https://backend.composio.dev", "https://[::1]/f?X-Amz-Signature=sig", nil, ErrDownloadNotAllowed},
		{"localhost from a remote proxy", "https://backend.composio.dev", "https://localhost/f?X-Amz-Signature=sig", nil, ErrDownloadNotAllowed},
		{"loopback from a loopback proxy (the fake)", "http://127.0.0.1:8080", "http://127.0.0.1:8080/files/1?X-Amz-Signature=sig", nil, nil},
		{"localhost from a loopback proxy", "http://127.0.0.1:8080", "http://localhost:9000/f?X-Amz-Signature=sig", nil, nil},
		{"hook allows", "https://backend.composio.dev", "https://bucket.s3.amazonaws.com/f?X-Amz-Signature=sig", veto, nil},
		{"hook vetoes", "https://backend.composio.dev", "https://other.example/f?X-Amz-Signature=sig", veto, errVeto},
		{"hook quoting the URL", "https://backend.composio.dev", "https://user:PASSsecret55@other.example/f?X-Amz-Signature=SIGsecret77&X-Amz-Credential=CREDsecret66",
			func(u *url.URL) error {
				return fmt.Errorf("blocked %s (%s, %q)", u, u.RawQuery, u.Query().Get("X-Amz-Signature"))
			}, ErrDownloadNotAllowed},
		{"hook cannot allow what the policy refuses", "https://backend.composio.dev", "http://bucket.s3.amazonaws.com/f?X-Amz-Signature=sig", func(*url.URL) error { return nil }, ErrDownloadNotAllowed},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			reply := fmt.Sprintf(`{"status":200,"headers":{"content-type":"application/pdf"},"binary_data":{"url":%q,"content_type":"application/pdf","size":3}}`, c.url)
			p := &stubProxy{reply: reply, files: map[string]string{c.url: "pdf"}}
			tr := &Transport{APIKey: "ak_test_secret", BaseURL: c.base, ConnectedAccountID: "ca_1", Base: p, AllowDownload: c.hook}
			req, _ := http.NewRequest(http.MethodGet, "https://api.github.com/repos/o/r/releases/assets/1", nil)
			resp, err := tr.RoundTrip(req)
			if c.wantErr == nil {
				if err != nil {
					t.Fatalf("err = %v, want the download allowed", err)
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || string(b) != "pdf" {
					t.Fatalf("body %q, %v", b, err)
				}
				return
			}
			if resp != nil {
				resp.Body.Close()
			}
			var de *DownloadError
			if !errors.Is(err, c.wantErr) || !errors.Is(err, ErrDownloadNotAllowed) || !errors.As(err, &de) {
				t.Fatalf("err = %v, want a *DownloadError matching %v", err, c.wantErr)
			}
			if !errors.Is(err, ErrBinaryBody) {
				t.Errorf("err = %v does not match ErrBinaryBody", err)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, "composiohttp: ") || strings.Contains(msg, "sig") || strings.Contains(msg, "secret") {
				t.Errorf("error text %q: want the composiohttp: prefix and no signed query, no key", msg)
			}
			p.mu.Lock()
			defer p.mu.Unlock()
			if len(p.fileHdr) != 0 {
				t.Errorf("the refused URL was fetched")
			}
		})
	}
}
