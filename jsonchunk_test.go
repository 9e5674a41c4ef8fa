package composiohttp

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
)

// A body labelled JSON that is not a whole JSON document,
// such as a chunk of Google Drive's resumable upload of a JSON file, goes
// as binary_body, byte for byte, with no error, and CallInfo records it.
func TestInvalidJSONGoesAsBinary(t *testing.T) {
	t.Parallel()
	file := []byte(`{"name":"report","rows":[` + strings.Repeat(`{"a":1,"b":"x"},`, 100) + `{}]}`)
	chunk := file[:1024] // the first chunk of a resumable upload: not valid JSON alone
	big := bytes.Repeat([]byte(`{"a":`), MaxInlineBody/5+1)
	upload := func(_ context.Context, r io.Reader, size int64, ct string) (string, error) {
		b, _ := io.ReadAll(r)
		if !bytes.Equal(b, big) || ct != "application/json" {
			return "", errors.New("upload got other bytes")
		}
		return "https://uploads.test/1", nil
	}
	for _, c := range []struct {
		name       string
		ct         string
		body       []byte
		unknown    bool // body of unknown length
		upload     UploadFunc
		wantJSON   bool   // sent as "body"
		wantURL    string // sent as binary_body.url
		wantErr    error
		wantBinary bool // CallInfo.BodySentAsBinary
	}{
		{"resumable-upload chunk labelled JSON", "application/json; charset=UTF-8", chunk, false, nil, false, "", nil, true},
		{"chunk of unknown length", "application/json", chunk, true, nil, false, "", nil, true},
		{"plain text labelled JSON", "application/vnd.api+json", []byte("OK"), false, nil, false, "", nil, true},
		{"two documents", "application/json", []byte(`{}{}`), false, nil, false, "", nil, true},
		{"valid JSON stays body", "application/json", file, false, nil, true, "", nil, false},
		{"invalid JSON over 4 MB goes through Upload", "application/json", big, false, upload, false, "https://uploads.test/1", nil, true},
		{"invalid JSON over 4 MB without Upload", "application/json", big, false, nil, false, "", ErrBodyTooLarge, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			p := &stubProxy{reply: okReply}
			tr := newTestTransport(p)
			tr.Upload = c.upload
			var info CallInfo
			ctx := WithCallInfo(context.Background(), &info)
			var body io.Reader = bytes.NewReader(c.body)
			if c.unknown {
				body = io.MultiReader(body)
			}
			req, _ := http.NewRequestWithContext(ctx, http.MethodPut, "https://www.googleapis.com/upload/drive/v3/files?uploadType=resumable&upload_id=x", body)
			req.Header.Set("Content-Type", c.ct)
			req.Header.Set("Content-Range", "bytes 0-1023/*")
			resp, err := tr.RoundTrip(req)
			if c.wantErr != nil {
				if !errors.Is(err, c.wantErr) || p.calls != 0 {
					t.Fatalf("err = %v, calls %d; want %v before sending", err, p.calls, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			resp.Body.Close()
			env := p.envelope(t)
			if info.BodySentAsBinary != c.wantBinary {
				t.Errorf("CallInfo.BodySentAsBinary = %v, want %v", info.BodySentAsBinary, c.wantBinary)
			}
			if c.wantJSON {
				if env["binary_body"] != nil || env["body"] == nil {
					t.Fatalf("valid JSON not sent as body: %v", env)
				}
				return
			}
			if env["body"] != nil {
				t.Fatalf("sent as body: %v", env["body"])
			}
			bb, _ := env["binary_body"].(map[string]any)
			if bb["content_type"] != c.ct {
				t.Errorf("content_type = %v, want %q", bb["content_type"], c.ct)
			}
			if c.wantURL != "" {
				if bb["url"] != c.wantURL {
					t.Errorf("url = %v, want %s", bb["url"], c.wantURL)
				}
				return
			}
			got, err := base64.StdEncoding.DecodeString(bb["base64"].(string))
			if err != nil || !bytes.Equal(got, c.body) {
				t.Errorf("binary_body.base64 is not the body byte for byte (%d bytes, %v)", len(got), err)
			}
		})
	}
}
