package testutil_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/testutil"
)

// TestEnvelopeContentType: the envelope must be sent as application/json;
// anything else is a 400 ValidationError.
func TestEnvelopeContentType(t *testing.T) {
	t.Parallel()
	s := github(t, echo)
	env := `{"connected_account_id":"ca_github","endpoint":"/user","method":"GET"}`
	tests := []struct {
		name, ct string
		ok       bool
	}{
		{"json", "application/json", true},
		{"json with charset", "application/json; charset=utf-8", true},
		{"upper case", "Application/JSON", true},
		{"text/plain", "text/plain", false},
		{"form", "application/x-www-form-urlencoded", false},
		{"missing", "", false},
		{"vendor json", "application/vnd.api+json", false},
		{"unparsable", "application/json; =", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := call(t, s, env, func(r *http.Request) {
				if tt.ct == "" {
					r.Header.Del("Content-Type")
				} else {
					r.Header.Set("Content-Type", tt.ct)
				}
			})
			if tt.ok {
				if r.status != 200 {
					t.Fatalf("got %d: %s", r.status, r.body)
				}
				return
			}
			checkError(t, r, 400, composiohttp.SlugValidationError, "Content-Type: must be application/json")
		})
	}
}

// TestHopByHopNamesAsQuery: only header parameters are refused for
// hop-by-hop names; a query parameter of the same name is forwarded.
func TestHopByHopNamesAsQuery(t *testing.T) {
	t.Parallel()
	s := github(t, echo)
	r := call(t, s, `{"connected_account_id":"ca_github","endpoint":"/x","method":"GET","parameters":[{"name":"keep-alive","value":"1","type":"query"},{"name":"host","value":"h","type":"query"}]}`)
	if e := decodeEcho(t, r); e.URL != "/x?keep-alive=1&host=h" {
		t.Errorf("upstream URL = %q", e.URL)
	}
}

// TestNonJSONLabelledJSON: an upstream that sends `OK` labelled
// application/json gives the caller `OK`, not `"OK"`, while JSON bodies,
// JSON strings included, stay byte for byte.
func TestNonJSONLabelledJSON(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, ct, body string }{
		{"OK labelled JSON", "application/json", "OK"},
		{"HTML labelled JSON", "application/json; charset=utf-8", "<html>502 Bad Gateway</html>"},
		{"truncated JSON", "application/json", `{"a":`},
		{"JSON string", "application/json", `"hello"`},
		{"JSON string with escapes", "application/json", `"a\"b\u00e9"`},
		{"JSON object", "application/json", `{"b": 1,  "a": [true, 0, ""]}`},
		{"JSON number", "application/json", `42`},
		{"vendor JSON string", "application/vnd.github+json", `"x"`},
		{"text", "text/plain", "OK"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := testutil.NewServer(t)
			s.AddAccount(testutil.Account{ID: "ca", AuthScheme: credentials.NoAuth,
				Handler: canned(200, tt.ct, tt.body)})
			tr := s.Transport()
			tr.ConnectedAccountID = "ca"
			req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, "https://api.example.com/x", nil)
			res, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(res.Body)
			res.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.body {
				t.Errorf("body = %q, want %q", got, tt.body)
			}
			if ct := res.Header.Get("Content-Type"); ct != tt.ct {
				t.Errorf("Content-Type = %q, want %q", ct, tt.ct)
			}
			if !strings.EqualFold(res.Status[:3], "200") {
				t.Errorf("status %s", res.Status)
			}
		})
	}
}
