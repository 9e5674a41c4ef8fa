package testutil_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/testutil"
)

func TestRouting(t *testing.T) {
	t.Parallel()
	s := github(t, echo)
	tests := []struct {
		name, method, path string
		status             int
		slug               string
	}{
		{"v3.1", http.MethodPost, "/api/v3.1/tools/execute/proxy", 200, ""},
		{"v3", http.MethodPost, "/api/v3/tools/execute/proxy", 200, ""},
		{"unknown path", http.MethodPost, "/api/v2/actions", 404, composiohttp.SlugNotFound},
		{"GET on proxy", http.MethodGet, "/api/v3.1/tools/execute/proxy", 405, composiohttp.SlugMethodNotAllowed},
		{"PUT on proxy", http.MethodPut, "/api/v3/tools/execute/proxy", 405, composiohttp.SlugMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := call(t, s, get("/user"), func(r *http.Request) {
				r.Method = tt.method
				r.URL.Path = tt.path
			})
			if tt.status == 200 {
				if r.status != 200 || r.env.Status != 200 {
					t.Fatalf("got %d: %s", r.status, r.body)
				}
				return
			}
			checkError(t, r, tt.status, tt.slug, "")
			if tt.status == 405 && r.header.Get("Allow") != "POST" {
				t.Errorf("Allow = %q", r.header.Get("Allow"))
			}
		})
	}
}

func TestAPIKey(t *testing.T) {
	t.Parallel()
	s := github(t, echo, testutil.WithAPIKey("ak_project"), testutil.WithUserAPIKey("uak_user"))
	tests := []struct {
		name       string
		key, ukey  string
		wantStatus int
	}{
		{"project key", "ak_project", "", 200},
		{"user key", "", "uak_user", 200},
		{"missing", "", "", 401},
		{"wrong project key", "ak_other", "", 401},
		{"wrong user key", "", "uak_other", 401},
		{"user key in x-api-key", "uak_user", "", 401},
		{"user key in x-api-key with a valid user header", "uak_user", "uak_user", 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := call(t, s, get("/user"), func(r *http.Request) {
				r.Header.Del("X-Api-Key")
				if tt.key != "" {
					r.Header.Set("X-Api-Key", tt.key)
				}
				if tt.ukey != "" {
					r.Header.Set("X-User-Api-Key", tt.ukey)
				}
			})
			if tt.wantStatus == 200 {
				if r.status != 200 {
					t.Fatalf("got %d: %s", r.status, r.body)
				}
				return
			}
			checkError(t, r, 401, composiohttp.SlugInvalidAPIKey, "")
			if strings.Contains(string(r.body), "ak_project") || strings.Contains(string(r.body), "uak_user") {
				t.Errorf("error reply leaks a key: %s", r.body)
			}
		})
	}
	t.Run("user key not configured", func(t *testing.T) {
		t.Parallel()
		s := github(t, echo)
		r := call(t, s, get("/user"), func(r *http.Request) {
			r.Header.Del("X-Api-Key")
			r.Header.Set("X-User-Api-Key", "uak_anything")
		})
		checkError(t, r, 401, composiohttp.SlugInvalidAPIKey, "")
	})
}

func TestValidation(t *testing.T) {
	t.Parallel()
	s := github(t, echo)
	big := base64.StdEncoding.EncodeToString(make([]byte, composiohttp.MaxInlineBody+1))
	exact := base64.StdEncoding.EncodeToString(make([]byte, composiohttp.MaxInlineBody))
	tests := []struct {
		name string
		env  string
		slug string
		want string // substring of an errors[] entry
	}{
		{"not JSON", `{"endpoint":`, composiohttp.SlugValidationError, "invalid JSON"},
		{"not an object", `[1,2]`, composiohttp.SlugValidationError, "must be a JSON object"},
		{"null", `null`, composiohttp.SlugValidationError, "must be a JSON object, got null"},
		{"trailing data", `{"connected_account_id":"ca_github","endpoint":"/x","method":"GET"} {}`, composiohttp.SlugValidationError, "invalid JSON"},
		{"invalid JSON in body", `{"connected_account_id":"ca_github","endpoint":"/x","method":"POST","body":{"a":}}`, composiohttp.SlugValidationError, "invalid JSON"},
		{"invalid JSON in parameters", `{"connected_account_id":"ca_github","endpoint":"/x","method":"GET","parameters":[{"name":"a","value":01,"type":"query"}]}`, composiohttp.SlugValidationError, "invalid JSON"},
		{"field name in another case", `{"connected_account_id":"ca_github","Endpoint":"/x","endpoint":"/x","method":"GET"}`, composiohttp.SlugValidationError, "Endpoint: unknown field"},
		{"unknown field", `{"connected_account_id":"ca_github","endpoint":"/x","method":"GET","headers":{}}`, composiohttp.SlugValidationError, "headers: unknown field"},
		{"missing endpoint", `{"connected_account_id":"ca_github","method":"GET"}`, composiohttp.SlugValidationError, "endpoint: required"},
		{"empty endpoint", `{"connected_account_id":"ca_github","endpoint":"","method":"GET"}`, composiohttp.SlugValidationError, "endpoint: must not be empty"},
		{"endpoint not a string", `{"connected_account_id":"ca_github","endpoint":42,"method":"GET"}`, composiohttp.SlugValidationError, "endpoint: must be a string, got number"},
		{"missing method", `{"connected_account_id":"ca_github","endpoint":"/x"}`, composiohttp.SlugValidationError, "method: required"},
		{"bad method", `{"connected_account_id":"ca_github","endpoint":"/x","method":"OPTIONS"}`, composiohttp.SlugValidationError, `method: must be one of`},
		{"lower-case method", `{"connected_account_id":"ca_github","endpoint":"/x","method":"get"}`, composiohttp.SlugValidationError, `got "get"`},
		{"account id not a string", `{"connected_account_id":7,"endpoint":"/x","method":"GET"}`, composiohttp.SlugValidationError, "connected_account_id: must be a string"},
		{"parameters not an array", `{"connected_account_id":"ca_github","endpoint":"/x","method":"GET","parameters":{}}`, composiohttp.SlugValidationError, "parameters: must be an array, got object"},
		{"parameter bad type", `{"connected_account_id":"ca_github","endpoint":"/x","method":"GET","parameters":[{"name":"a","value":"b","type":"path"}]}`, composiohttp.SlugValidationError, `parameters[0].type: must be "header" or "query", got "path"`},
		{"parameter missing type", `{"connected_account_id":"ca_github","endpoint":"/x","method":"GET","parameters":[{"name":"a","value":"b"}]}`, composiohttp.SlugValidationError, "parameters[0].type: required"},
		{"parameter missing name", `{"connected_account_id":"ca_github","endpoint":"/x","method":"GET","parameters":[{"value":"b","type":"query"}]}`, composiohttp.SlugValidationError, "parameters[0].name: required"},
		{"parameter missing value", `{"connected_account_id":"ca_github","endpoint":"/x","method":"GET","parameters":[{"name":"a","type":"query"}]}`, composiohttp.SlugValidationError, "parameters[0].value: required"},
		{"parameter value object", `{"connected_account_id":"ca_github","endpoint":"/x","method":"GET","parameters":[{"name":"a","value":{},"type":"query"}]}`, composiohttp.SlugValidationError, "parameters[0].value: must be a string, got object"},
		// Composio types a parameter's value as a string (composio-base-py
		// src/composio_client/types/tool_proxy_params.py, Parameter.value).
		{"parameter value number", `{"connected_account_id":"ca_github","endpoint":"/x","method":"GET","parameters":[{"name":"a","value":1,"type":"query"}]}`, composiohttp.SlugValidationError, "parameters[0].value: must be a string, got number"},
		{"parameter value boolean", `{"connected_account_id":"ca_github","endpoint":"/x","method":"GET","parameters":[{"name":"a","value":true,"type":"query"}]}`, composiohttp.SlugValidationError, "parameters[0].value: must be a string, got boolean"},
		{"connection header", `{"connected_account_id":"ca_github","endpoint":"/x","method":"GET","parameters":[{"name":"connection","value":"close","type":"header"}]}`, composiohttp.SlugValidationError, `parameters[0].name: hop-by-hop header "connection"`},
		{"keep-alive header", `{"connected_account_id":"ca_github","endpoint":"/x","method":"GET","parameters":[{"name":"a","value":"b","type":"query"},{"name":"Keep-Alive","value":"timeout=5","type":"header"}]}`, composiohttp.SlugValidationError, `parameters[1].name: hop-by-hop header "Keep-Alive"`},
		{"transfer-encoding header", `{"connected_account_id":"ca_github","endpoint":"/x","method":"POST","parameters":[{"name":"Transfer-Encoding","value":"chunked","type":"header"}]}`, composiohttp.SlugValidationError, `hop-by-hop header`},
		{"host header", `{"connected_account_id":"ca_github","endpoint":"/x","method":"GET","parameters":[{"name":"Host","value":"evil.test","type":"header"}]}`, composiohttp.SlugValidationError, `parameters[0].name: the Host header cannot be set`},
		// The schema's binary_body.base64 has minLength 1.
		{"empty base64", `{"connected_account_id":"ca_github","endpoint":"/x","method":"POST","binary_body":{"base64":"","content_type":"a/b"}}`, composiohttp.SlugValidationError, "binary_body.base64: must not be empty"},
		{"parameter unknown field", `{"connected_account_id":"ca_github","endpoint":"/x","method":"GET","parameters":[{"name":"a","value":"b","type":"query","in":"query"}]}`, composiohttp.SlugValidationError, "parameters[0].in: unknown field"},
		{"parameter not an object", `{"connected_account_id":"ca_github","endpoint":"/x","method":"GET","parameters":["a"]}`, composiohttp.SlugValidationError, "parameters[0]: must be an object, got string"},
		{"bad header name", `{"connected_account_id":"ca_github","endpoint":"/x","method":"GET","parameters":[{"name":"a b","value":"c","type":"header"}]}`, composiohttp.SlugValidationError, `invalid header name`},
		{"bad header value", `{"connected_account_id":"ca_github","endpoint":"/x","method":"GET","parameters":[{"name":"a","value":"c\r\nX-Evil: 1","type":"header"}]}`, composiohttp.SlugValidationError, `invalid header value`},
		{"body and binary_body", `{"connected_account_id":"ca_github","endpoint":"/x","method":"POST","body":{},"binary_body":{"base64":"AA==","content_type":"a/b"}}`, composiohttp.SlugValidationError, "only one of body and binary_body"},
		{"binary_body not an object", `{"connected_account_id":"ca_github","endpoint":"/x","method":"POST","binary_body":"AA=="}`, composiohttp.SlugValidationError, "binary_body: must be an object, got string"},
		{"binary_body empty", `{"connected_account_id":"ca_github","endpoint":"/x","method":"POST","binary_body":{"content_type":"a/b"}}`, composiohttp.SlugValidationError, "one of base64 and url is required"},
		{"binary_body both", `{"connected_account_id":"ca_github","endpoint":"/x","method":"POST","binary_body":{"base64":"AA==","url":"https://x.test/f"}}`, composiohttp.SlugValidationError, "only one of base64 and url"},
		{"binary_body unknown field", `{"connected_account_id":"ca_github","endpoint":"/x","method":"POST","binary_body":{"base64":"AA==","name":"f"}}`, composiohttp.SlugValidationError, "binary_body.name: unknown field"},
		{"invalid base64", `{"connected_account_id":"ca_github","endpoint":"/x","method":"POST","binary_body":{"base64":"not base64!"}}`, composiohttp.SlugValidationError, "binary_body.base64: invalid base64"},
		{"bad binary url", `{"connected_account_id":"ca_github","endpoint":"/x","method":"POST","binary_body":{"url":"ftp://x/f"}}`, composiohttp.SlugValidationError, "binary_body.url: must be an absolute http or https URL"},
		{"base64 over 4 MB", `{"connected_account_id":"ca_github","endpoint":"/x","method":"POST","binary_body":{"base64":"` + big + `"}}`, composiohttp.SlugPayloadTooLarge, "4 MB"},
		{"connection not an object", `{"endpoint":"/x","method":"GET","custom_connection_data":[]}`, composiohttp.SlugValidationError, "custom_connection_data: must be an object, got array"},
		{"connection without scheme", `{"endpoint":"/x","method":"GET","custom_connection_data":{"val":{}}}`, composiohttp.SlugValidationError, "custom_connection_data.authScheme: required"},
		{"connection unknown field", `{"endpoint":"/x","method":"GET","custom_connection_data":{"authScheme":"NO_AUTH","val":{},"auth_scheme":"x"}}`, composiohttp.SlugValidationError, "custom_connection_data.auth_scheme: unknown field"},
		{"connection val not an object", `{"endpoint":"/x","method":"GET","custom_connection_data":{"authScheme":"NO_AUTH","val":"x"}}`, composiohttp.SlugValidationError, "custom_connection_data.val: must be an object, got string"},
		{"account and connection", `{"connected_account_id":"ca_github","endpoint":"/x","method":"GET","custom_connection_data":{"authScheme":"NO_AUTH","val":{"base_url":"https://a.test"}}}`, composiohttp.SlugValidationError, "only one of connected_account_id and custom_connection_data"},
		{"connection without base_url", `{"endpoint":"/x","method":"GET","custom_connection_data":{"authScheme":"NO_AUTH","val":{}}}`, composiohttp.SlugValidationError, "base_url"},
		{"no auth context", `{"endpoint":"/x","method":"GET"}`, composiohttp.SlugMissingAuthContext, ""},
		{"null auth context", `{"connected_account_id":null,"custom_connection_data":null,"endpoint":"/x","method":"GET"}`, composiohttp.SlugMissingAuthContext, ""},
		{"scheme-relative endpoint", `{"connected_account_id":"ca_github","endpoint":"//evil.test/x","method":"GET"}`, composiohttp.SlugValidationError, "endpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			checkError(t, call(t, s, tt.env), 400, tt.slug, tt.want)
		})
	}
	t.Run("several problems at once", func(t *testing.T) {
		t.Parallel()
		r := call(t, s, `{"endpoint":1,"method":"TRACE","extra":true}`)
		checkError(t, r, 400, composiohttp.SlugValidationError, "")
		if len(r.err.Errors) != 3 {
			t.Errorf("errors = %q, want 3", r.err.Errors)
		}
	})
	t.Run("base64 of exactly 4 MB", func(t *testing.T) {
		t.Parallel()
		s := testutil.NewServer(t)
		s.AddAccount(testutil.Account{ID: "ca", AuthScheme: credentials.NoAuth, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n, _ := io.Copy(io.Discard, r.Body)
			fmt.Fprintf(w, "%d %s", n, r.Header.Get("Content-Type"))
		})})
		r := call(t, s, `{"connected_account_id":"ca","endpoint":"/x","method":"POST","binary_body":{"base64":"`+exact+`","content_type":"application/pdf"}}`)
		if want := fmt.Sprintf("%q", fmt.Sprintf("%d application/pdf", composiohttp.MaxInlineBody)); string(r.env.Data) != want {
			t.Errorf("upstream got %s, want %s", r.env.Data, want)
		}
	})
}

func TestAccounts(t *testing.T) {
	t.Parallel()
	s := github(t, echo)
	for _, st := range []string{"EXPIRED", "INACTIVE", "FAILED", "INITIATED"} {
		s.AddAccount(testutil.Account{ID: "ca_" + st, AuthScheme: credentials.NoAuth, Status: st, Handler: echo})
	}
	s.AddAccount(testutil.Account{ID: "ca_active", AuthScheme: credentials.NoAuth, Status: "ACTIVE", Handler: echo})
	tests := []struct {
		id     string
		status int
		slug   string
	}{
		{"ca_github", 200, ""},
		{"ca_active", 200, ""},
		{"ca_missing", 404, composiohttp.SlugConnectedAccountNotFound},
		{"ca_EXPIRED", 422, composiohttp.SlugConnectedAccountNotActive},
		{"ca_INACTIVE", 422, composiohttp.SlugConnectedAccountNotActive},
		{"ca_FAILED", 422, composiohttp.SlugConnectedAccountNotActive},
		{"ca_INITIATED", 422, composiohttp.SlugConnectedAccountNotActive},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			t.Parallel()
			r := call(t, s, map[string]any{"connected_account_id": tt.id, "endpoint": "/x", "method": "GET"})
			if tt.status == 200 {
				decodeEcho(t, r)
				return
			}
			checkError(t, r, tt.status, tt.slug, "")
		})
	}
	t.Run("AddAccount replaces", func(t *testing.T) {
		t.Parallel()
		s := github(t, echo)
		s.AddAccount(testutil.Account{ID: "ca_github", AuthScheme: credentials.NoAuth, Status: "EXPIRED", Handler: echo})
		checkError(t, call(t, s, get("/x")), 422, composiohttp.SlugConnectedAccountNotActive, "")
	})
	t.Run("AddAccount panics on empty ID", func(t *testing.T) {
		t.Parallel()
		defer func() {
			if recover() == nil {
				t.Error("no panic")
			}
		}()
		s.AddAccount(testutil.Account{})
	})
}

func TestOrigin(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, base, endpoint string
		wantURL              string // "" = OriginMismatch
	}{
		{"same host", "https://api.github.com", "https://api.github.com/user", "https://api.github.com/user"},
		{"sibling subdomain", "https://api.github.com", "https://uploads.github.com/repos/a/b", "https://uploads.github.com/repos/a/b"},
		{"gmail to googleapis", "https://gmail.googleapis.com", "https://www.googleapis.com/upload/x", "https://www.googleapis.com/upload/x"},
		{"registrable domain itself", "https://api.github.com", "https://github.com/login", "https://github.com/login"},
		{"other port", "https://api.github.com", "https://api.github.com:8443/x", "https://api.github.com:8443/x"},
		{"case-insensitive host", "https://api.github.com", "https://API.GitHub.com/x", "https://API.GitHub.com/x"},
		{"other domain", "https://api.github.com", "https://evil.com/user", ""},
		{"lookalike domain", "https://api.github.com", "https://api.github.com.evil.com/user", ""},
		{"other scheme", "https://api.github.com", "http://api.github.com/user", ""},
		{"private suffix siblings", "https://alice.github.io", "https://bob.github.io/x", "https://bob.github.io/x"},
		{"s3 buckets", "https://a.s3.amazonaws.com", "https://b.s3.amazonaws.com/k", "https://b.s3.amazonaws.com/k"},
		{"ICANN suffix siblings", "https://a.gov.uk", "https://b.gov.uk/x", ""},
		{"co.uk siblings", "https://api.example.co.uk", "https://www.example.co.uk/x", "https://www.example.co.uk/x"},
		{"co.uk strangers", "https://api.example.co.uk", "https://api.other.co.uk/x", ""},
		{"same IP", "http://127.0.0.1:1234", "http://127.0.0.1:9999/x", "http://127.0.0.1:9999/x"},
		{"other IP", "http://127.0.0.1:1234", "http://127.0.0.2:1234/x", ""},
		{"localhost", "http://localhost:1", "http://localhost:1/x", "http://localhost:1/x"},
		{"relative", "https://api.github.com", "/user", "https://api.github.com/user"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := testutil.NewServer(t)
			s.AddAccount(testutil.Account{ID: "ca", AuthScheme: credentials.NoAuth, BaseURL: tt.base, Handler: echo})
			r := call(t, s, map[string]any{"connected_account_id": "ca", "endpoint": tt.endpoint, "method": "GET"})
			if tt.wantURL == "" {
				checkError(t, r, 400, composiohttp.SlugOriginMismatch, "")
				return
			}
			e := decodeEcho(t, r)
			_, want, _ := strings.Cut(tt.wantURL, "://")
			if got := e.Host + e.URL; got != want {
				t.Errorf("upstream got %s, want %s", got, want)
			}
		})
	}
}

func TestRelativeResolution(t *testing.T) {
	t.Parallel()
	tests := []struct {
		base, endpoint, want string
	}{
		{"https://x.test", "/v1/y", "/v1/y"},
		{"https://x.test/", "/v1/y", "/v1/y"},
		{"https://x.test/api", "/v1/y", "/api/v1/y"},
		{"https://x.test/api/", "/v1/y", "/api/v1/y"},
		{"https://x.test/api", "v1/y", "/api/v1/y"},
		{"https://x.test/api", "/v1/y?a=1&b=2", "/api/v1/y?a=1&b=2"},
		{"https://x.test/api", "/files/a%2Fb", "/api/files/a%2Fb"},
		{"https://x.test/api", "/search?q=a+b", "/api/search?q=a+b"},
	}
	for _, tt := range tests {
		t.Run(tt.base+" "+tt.endpoint, func(t *testing.T) {
			t.Parallel()
			s := testutil.NewServer(t)
			s.AddAccount(testutil.Account{ID: "ca", AuthScheme: credentials.NoAuth, BaseURL: tt.base, Handler: echo})
			e := decodeEcho(t, call(t, s, map[string]any{"connected_account_id": "ca", "endpoint": tt.endpoint, "method": "GET"}))
			if e.URL != tt.want || e.Host != "x.test" {
				t.Errorf("upstream got %s%s, want x.test%s", e.Host, e.URL, tt.want)
			}
		})
	}
}

func TestForwarding(t *testing.T) {
	t.Parallel()
	s := github(t, echo)
	tests := []struct {
		name     string
		env      string
		method   string
		url      string
		body     string
		header   map[string]string // "" value: must be absent
		multiHdr map[string][]string
	}{
		{
			name:   "GET with query and headers in order",
			env:    `{"connected_account_id":"ca_github","endpoint":"/repos/o/r/issues?state=open","method":"GET","parameters":[{"name":"per_page","value":"5","type":"query"},{"name":"X-Trace","value":"1","type":"header"},{"name":"label","value":"a b","type":"query"},{"name":"label","value":"c&d","type":"query"},{"name":"X-Trace","value":"2","type":"header"},{"name":"page","value":"2","type":"query"}]}`,
			method: "GET",
			url:    "/repos/o/r/issues?state=open&per_page=5&label=a+b&label=c%26d&page=2",
			header: map[string]string{"Authorization": "Bearer gho_secret", "Content-Type": ""},
			multiHdr: map[string][]string{
				"X-Trace": {"1", "2"},
			},
		},
		{
			name:   "POST JSON body byte-exact",
			env:    `{"connected_account_id":"ca_github","endpoint":"/repos/o/r/issues","method":"POST","body":{"title":"t","draft":false,"n":0,"o":{}}}`,
			method: "POST",
			url:    "/repos/o/r/issues",
			body:   `{"title":"t","draft":false,"n":0,"o":{}}`,
			header: map[string]string{"Content-Type": "application/json"},
		},
		{
			name:   "JSON body with a content-type parameter",
			env:    `{"connected_account_id":"ca_github","endpoint":"/x","method":"PATCH","body":[1, 2],"parameters":[{"name":"Content-Type","value":"application/merge-patch+json","type":"header"}]}`,
			method: "PATCH",
			url:    "/x",
			body:   `[1, 2]`,
			header: map[string]string{"Content-Type": "application/merge-patch+json"},
		},
		{
			name:   "null body is no body",
			env:    `{"connected_account_id":"ca_github","endpoint":"/x","method":"DELETE","body":null}`,
			method: "DELETE",
			url:    "/x",
			header: map[string]string{"Content-Type": ""},
		},
		{
			name:   "binary base64",
			env:    `{"connected_account_id":"ca_github","endpoint":"/upload","method":"PUT","binary_body":{"base64":"` + base64.StdEncoding.EncodeToString([]byte("%PDF-1.4\x00\x01")) + `","content_type":"application/pdf"}}`,
			method: "PUT",
			url:    "/upload",
			body:   "%PDF-1.4\x00\x01",
			header: map[string]string{"Content-Type": "application/pdf"},
		},
		{
			name:   "binary base64 without content type",
			env:    `{"connected_account_id":"ca_github","endpoint":"/upload","method":"POST","binary_body":{"base64":"AAE="}}`,
			method: "POST",
			url:    "/upload",
			body:   "\x00\x01",
			header: map[string]string{"Content-Type": "application/octet-stream"},
		},
		{
			name:   "user Authorization is replaced by the account's",
			env:    `{"connected_account_id":"ca_github","endpoint":"/x","method":"GET","parameters":[{"name":"Authorization","value":"Bearer mine","type":"header"}]}`,
			method: "GET",
			url:    "/x",
			header: map[string]string{"Authorization": "Bearer gho_secret"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := decodeEcho(t, call(t, s, tt.env))
			if e.Method != tt.method || e.URL != tt.url || e.Body != tt.body {
				t.Errorf("upstream got %s %s %q, want %s %s %q", e.Method, e.URL, e.Body, tt.method, tt.url, tt.body)
			}
			h := http.Header(e.Header)
			for k, v := range tt.header {
				if got := h.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			for k, v := range tt.multiHdr {
				if got := h.Values(k); strings.Join(got, "|") != strings.Join(v, "|") {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

func TestCustomConnection(t *testing.T) {
	t.Parallel()
	s := testutil.NewServer(t)
	s.AddUpstream("https://api.linear.app", echo)
	tests := []struct {
		name, env, wantURL, wantAuth string
		status                       int
		slug                         string
	}{
		{
			name:     "relative",
			env:      `{"endpoint":"/graphql","method":"POST","body":{"query":"{viewer{id}}"},"custom_connection_data":{"authScheme":"BEARER_TOKEN","toolkitSlug":"linear","val":{"token":"lin_1","base_url":"https://api.linear.app"}}}`,
			wantURL:  "/graphql",
			wantAuth: "Bearer lin_1",
			status:   200,
		},
		{
			name:     "absolute and extra val keys",
			env:      `{"endpoint":"https://api.linear.app/x","method":"GET","custom_connection_data":{"authScheme":"OAUTH2","val":{"access_token":"a","base_url":"https://api.linear.app","team":"eng"}}}`,
			wantURL:  "/x",
			wantAuth: "Bearer a",
			status:   200,
		},
		{
			name:   "origin mismatch",
			env:    `{"endpoint":"https://evil.test/x","method":"GET","custom_connection_data":{"authScheme":"NO_AUTH","val":{"base_url":"https://api.linear.app"}}}`,
			status: 400,
			slug:   composiohttp.SlugOriginMismatch,
		},
		{
			name:   "unknown scheme",
			env:    `{"endpoint":"/x","method":"GET","custom_connection_data":{"authScheme":"SAML","val":{"base_url":"https://api.linear.app"}}}`,
			status: 501,
			slug:   composiohttp.SlugAuthSchemeNotSupported,
		},
		{
			name:   "missing field",
			env:    `{"endpoint":"/x","method":"GET","custom_connection_data":{"authScheme":"SERVICE_ACCOUNT","val":{"base_url":"https://api.linear.app","application_id":"1","installation_id":"2"}}}`,
			status: 422,
			slug:   composiohttp.SlugInvalidConnectionData,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := call(t, s, tt.env)
			if tt.status != 200 {
				checkError(t, r, tt.status, tt.slug, "")
				return
			}
			e := decodeEcho(t, r)
			if e.URL != tt.wantURL || http.Header(e.Header).Get("Authorization") != tt.wantAuth {
				t.Errorf("upstream got %s with Authorization %q", e.URL, http.Header(e.Header).Get("Authorization"))
			}
		})
	}
	t.Cleanup(func() {
		for _, rec := range s.Requests() {
			if c := rec.Envelope.CustomConnectionData; c == nil || c.Val.BaseURL != "https://api.linear.app" {
				t.Errorf("recorded connection not decoded: %+v", rec)
			}
		}
	})
}

func TestAccountOverHTTP(t *testing.T) {
	t.Parallel()
	up := newHTTPUpstream(t, echo)
	s := testutil.NewServer(t)
	s.AddAccount(testutil.Account{ID: "ca", AuthScheme: credentials.BearerToken, Val: credentials.Val{Token: "tk"}, BaseURL: up + "/base"})
	e := decodeEcho(t, call(t, s, map[string]any{"connected_account_id": "ca", "endpoint": "/items", "method": "POST", "body": json.RawMessage(`{"a":1}`)}))
	if e.URL != "/base/items" || e.Body != `{"a":1}` || http.Header(e.Header).Get("Authorization") != "Bearer tk" {
		t.Errorf("upstream got %+v", e)
	}
}
