package testutil_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/testutil"
)

var kib = `{"data":"` + strings.Repeat("x", 1000) + `"}`

func benchServer(b *testing.B) *testutil.Server {
	s := testutil.NewServer(b)
	s.AddAccount(testutil.Account{ID: "ca", AuthScheme: credentials.OAuth2, Val: credentials.Val{AccessToken: "t"},
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, kib)
		})})
	return s
}

// BenchmarkServeHTTP is the fake's own cost for a 1 KiB JSON call each
// way, without sockets.
func BenchmarkServeHTTP(b *testing.B) {
	s := benchServer(b)
	env := []byte(`{"connected_account_id":"ca","endpoint":"/x","method":"POST","body":` + kib + `}`)
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/api/v3.1/tools/execute/proxy", bytes.NewReader(env))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Api-Key", s.APIKey)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatal(w.Code)
		}
	}
}

// BenchmarkTransportLoopback is a 1 KiB JSON call each way through the
// Transport and the fake over loopback.
func BenchmarkTransportLoopback(b *testing.B) {
	s := benchServer(b)
	tr := s.Transport()
	tr.ConnectedAccountID = "ca"
	client := &http.Client{Transport: tr}
	b.ReportAllocs()
	for b.Loop() {
		res, err := client.Post("https://api.example.com/x", "application/json", strings.NewReader(kib))
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
}

// BenchmarkHugeDeclaredLength is a proxy call with a valid key that
// declares Content-Length 262144000 (250 MiB) and sends one byte: its cost
// (B/op) is what arrived, not what was declared.
func BenchmarkHugeDeclaredLength(b *testing.B) {
	s := benchServer(b)
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/api/v3.1/tools/execute/proxy", strings.NewReader("{"))
		req.ContentLength = 262144000
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Api-Key", s.APIKey)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code != 400 {
			b.Fatal(w.Code)
		}
	}
}
