package composiohttp

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
)

// Composio's reference says body is for POST, PUT and PATCH,
// and a strict proxy rejects a GET that carries one. A non-empty body on
// GET or HEAD is refused before anything is sent, with ErrBodyNotAllowed;
// an empty one (of unknown length) is no body; DELETE keeps its body
// (GitHub's RemoveAssignees sends one).
func TestBodyOnGetOrHead(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name     string
		method   string
		ct       string
		body     io.Reader
		length   int64 // -1: unknown (ContentLength 0 with a body)
		wantErr  error
		wantBody string // the envelope's "body", or "" for none
	}{
		{"GET with JSON", "GET", "application/json", strings.NewReader(`{"q":1}`), 7, ErrBodyNotAllowed, ""},
		{"GET with bytes", "GET", "application/octet-stream", strings.NewReader("abc"), 3, ErrBodyNotAllowed, ""},
		{"HEAD with JSON", "HEAD", "application/json", strings.NewReader(`{}`), 2, ErrBodyNotAllowed, ""},
		{"GET with a body of unknown length", "GET", "text/plain", strings.NewReader("abc"), -1, ErrBodyNotAllowed, ""},
		{"method \"\" (GET) with a body", "", "application/json", strings.NewReader(`{}`), 2, ErrBodyNotAllowed, ""},
		{"GET with an empty body of unknown length", "GET", "application/json", strings.NewReader(""), -1, nil, ""},
		{"DELETE keeps its JSON body", "DELETE", "application/json", strings.NewReader(`{"assignees":["octocat"]}`), 25, nil, `{"assignees":["octocat"]}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			p := &stubProxy{reply: okReply}
			tr := newTestTransport(p)
			cb := &countingBody{r: c.body}
			req, _ := http.NewRequest(c.method, "https://api.github.com/repos/o/r/issues/1/assignees", nil)
			req.Body = cb
			req.ContentLength = max(c.length, 0)
			req.Header.Set("Content-Type", c.ct)
			resp, err := tr.RoundTrip(req)
			if cb.closes.Load() != 1 {
				t.Errorf("caller's body closed %d times", cb.closes.Load())
			}
			if c.wantErr != nil {
				if !errors.Is(err, c.wantErr) || p.calls != 0 || !strings.HasPrefix(err.Error(), "composiohttp: ") {
					t.Fatalf("err = %v, proxy calls %d; want %v before sending", err, p.calls, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			env := p.envelope(t)
			got, _ := env["body"]
			if c.wantBody == "" {
				if got != nil || env["binary_body"] != nil {
					t.Errorf("envelope carries a body: %v %v", got, env["binary_body"])
				}
				return
			}
			if b, _ := json.Marshal(got); string(b) != c.wantBody {
				t.Errorf("envelope body = %s, want %s", b, c.wantBody)
			}
		})
	}
}
