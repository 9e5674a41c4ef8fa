package composiohttp

import (
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"testing"
	"unicode/utf8"

	"github.com/composiohttp/composiohttp/internal/httpheader"
	"github.com/composiohttp/composiohttp/internal/jsonscan"
)

func FuzzDecodeEnvelope(f *testing.F) {
	for _, s := range []string{
		okReply,
		`{"status":200,"headers":{"content-type":"text/plain","x-a":"1"},"data":"hi\n"}`,
		`{"status":404,"headers":null,"data":null}`,
		`{"status":200,"binary_data":{"url":"https://s.test/x","content_type":"image/png","size":10,"expires_at":"2030-01-01T00:00:00Z"}}`,
		`{"status":200,"headers":{"A":"1","a":"2","content-length":"5"},"data":[1,{"x":"\u0041"}]}`,
		`{"status":"200"}`, `{"status":200,"data":`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		env, err := decodeEnvelope(b, nil)
		// The Transport decodes into a headerStore (small header sets):
		// the same result either way.
		env2, err2 := decodeEnvelope(b, new(headerStore))
		if (err == nil) != (err2 == nil) || !reflect.DeepEqual(env, env2) {
			t.Fatalf("with a headerStore: %+v, %v; without: %+v, %v", env2, err2, env, err)
		}
		if err != nil {
			if !errors.Is(err, ErrMalformedEnvelope) {
				t.Fatalf("error %v is not ErrMalformedEnvelope", err)
			}
			return
		}
		if !json.Valid(b) {
			t.Fatalf("accepted invalid JSON %q", b)
		}
		if env.status < 100 || env.status > 999 {
			t.Fatalf("status %d", env.status)
		}
		for k, vs := range env.header {
			if k != http.CanonicalHeaderKey(k) || len(vs) == 0 {
				t.Fatalf("header %q = %q", k, vs)
			}
			for _, v := range vs {
				if !httpheader.ValidValue(v) {
					t.Fatalf("invalid header value %q", v)
				}
			}
		}
		if env.binary != nil && env.binary.Size < -1 {
			t.Fatalf("size %d", env.binary.Size)
		}
		// What encoding/json reads must agree on status and headers.
		var ref struct {
			Status  int               `json:"status"`
			Headers map[string]string `json:"headers"`
		}
		if json.Unmarshal(b, &ref) == nil && ref.Status != env.status {
			t.Fatalf("status %d, encoding/json says %d", env.status, ref.Status)
		}
	})
}

func FuzzUnquoteMatchesEncodingJSON(f *testing.F) {
	for _, s := range []string{`"plain"`, `"W/\"abc\""`, `"\u00e9\n\t\\\/"`, `"\ud83d\ude00"`, `"\ud83d"`, `"\ude00x"`, `"\ud83d\u0041"`, `"\b\f\r"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		end, err := jsonscan.String(b, 0)
		if len(b) == 0 || b[0] != '"' || err != nil || end != len(b) {
			return
		}
		var want string
		if json.Unmarshal(b, &want) != nil {
			t.Fatalf("jsonscan.String accepted %q, encoding/json did not", b)
		}
		got := string(unquote(b))
		if utf8.ValidString(string(b)) && got != want {
			t.Fatalf("unquote(%q) = %q, encoding/json %q", b, got, want)
		}
	})
}
