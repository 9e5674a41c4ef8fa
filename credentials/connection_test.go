package credentials

import (
	"bytes"
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestValUnmarshal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want Val
	}{
		{"empty", `{}`, Val{}},
		{"typed strings", `{"access_token":"at","token_type":"Bearer","your-domain":"acme","COMPANYDOMAIN":"c","instanceEndpoint":"https://x"}`,
			Val{AccessToken: "at", TokenType: "Bearer", YourDomain: "acme", CompanyDomain: "c", InstanceEndpoint: "https://x"}},
		{"expires_in number", `{"expires_in":3600}`, Val{ExpiresIn: "3600"}},
		{"expires_in string", `{"expires_in":"3600"}`, Val{ExpiresIn: "3600"}},
		{"expires_in decimal", `{"expires_in":3599.5}`, Val{ExpiresIn: "3599.5"}},
		{"expires_at number", `{"expires_at":1767225600}`, Val{ExpiresAt: "1767225600"}},
		{"expires_at string", `{"expires_at":"2026-01-01T00:00:00Z"}`, Val{ExpiresAt: "2026-01-01T00:00:00Z"}},
		{"credentials_json object", `{"credentials_json":{ "type" : "service_account" }}`, Val{CredentialsJSON: `{"type":"service_account"}`}},
		{"credentials_json string", `{"credentials_json":"{\"type\": \"service_account\"}"}`, Val{CredentialsJSON: `{"type": "service_account"}`}},
		{"authed_user", `{"authed_user":{ "access_token" : "u" }}`, Val{AuthedUser: json.RawMessage(`{"access_token":"u"}`)}},
		{"unknown keys", `{"plan":"pro","n":1,"ok":true,"obj":{"a": [1, 2]},"nil":null}`,
			Val{Extra: map[string]json.RawMessage{"plan": raw(`"pro"`), "n": raw(`1`), "ok": raw(`true`), "obj": raw(`{"a":[1,2]}`), "nil": raw(`null`)}}},
		{"typed key, empty string", `{"password":""}`, Val{Extra: map[string]json.RawMessage{"password": raw(`""`)}}},
		{"typed key, null", `{"refresh_token":null}`, Val{Extra: map[string]json.RawMessage{"refresh_token": raw(`null`)}}},
		{"typed key, bool", `{"region":true}`, Val{Extra: map[string]json.RawMessage{"region": raw(`true`)}}},
		{"typed key, array", `{"scope":["a","b"]}`, Val{Extra: map[string]json.RawMessage{"scope": raw(`["a","b"]`)}}},
		{"typed key, number", `{"installation_id":42}`, Val{InstallationID: "42", numeric: 1 << fieldIndex["installation_id"]}},
		{"escapes", `{"token":"a\"b\\c\u00e9\n"}`, Val{Token: "a\"b\\c\u00e9\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var v Val
			if err := json.Unmarshal([]byte(tt.in), &v); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(v, tt.want) {
				t.Errorf("got  %#v\nwant %#v", v.plain(), tt.want.plain())
			}
		})
	}
}

func raw(s string) json.RawMessage { return json.RawMessage(s) }

// plain returns v's real JSON, for failure messages of tests.
func (v Val) plain() string {
	b, err := v.appendJSON(nil, false)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

func TestValUnmarshalReplacesAndNull(t *testing.T) {
	t.Parallel()
	v := Val{AccessToken: "old", Extra: map[string]json.RawMessage{"x": raw(`1`)}}
	if err := json.Unmarshal([]byte(`null`), &v); err != nil || v.AccessToken != "old" {
		t.Fatalf("null: err %v, val %s", err, v.plain())
	}
	if err := json.Unmarshal([]byte(`{"token":"t"}`), &v); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(v, Val{Token: "t"}) {
		t.Errorf("not replaced: %s", v.plain())
	}
}

func TestValUnmarshalErrors(t *testing.T) {
	t.Parallel()
	for _, in := range []string{`"str"`, `[1]`, `{"access_token":"secret-value"`, `{"a":secret-value}`} {
		var v Val
		err := v.UnmarshalJSON([]byte(in))
		if err == nil {
			t.Errorf("%s: no error", in)
			continue
		}
		if !strings.HasPrefix(err.Error(), "credentials:") || strings.Contains(err.Error(), "secret-value") {
			t.Errorf("%s: error %q", in, err)
		}
	}
}

func TestMarshalWire(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		conn Connection
		want string
	}{
		{"empty", Connection{}, `{"authScheme":"","val":{}}`},
		{"typed", Connection{AuthScheme: OAuth2, ToolkitSlug: "github", Val: Val{AccessToken: "at", Scope: "repo user", ExpiresIn: "3600"}},
			`{"authScheme":"OAUTH2","toolkitSlug":"github","val":{"access_token":"at","expires_in":3600,"scope":"repo user"}}`},
		{"non-numeric expires", Connection{AuthScheme: OAuth2, Val: Val{ExpiresIn: "soon", ExpiresAt: "2026-01-01T00:00:00Z"}},
			`{"authScheme":"OAUTH2","val":{"expires_in":"soon","expires_at":"2026-01-01T00:00:00Z"}}`},
		{"credentials_json as string", Connection{AuthScheme: GoogleServiceAccount, Val: Val{CredentialsJSON: `{"a":1}`}},
			`{"authScheme":"GOOGLE_SERVICE_ACCOUNT","val":{"credentials_json":"{\"a\":1}"}}`},
		{"extra sorted, after typed", Connection{AuthScheme: APIKey, Val: Val{APIKey: "k", AuthedUser: raw(`{"id":1}`),
			Extra: map[string]json.RawMessage{"zeta": raw(`1`), "alpha": raw(`"a"`), "api_key": raw(`"shadowed"`)}}},
			`{"authScheme":"API_KEY","val":{"api_key":"k","authed_user":{"id":1},"alpha":"a","zeta":1}}`},
		{"escaping", Connection{AuthScheme: Basic, Val: Val{Username: "a\"\\\x01\u2028<>&\xff"}},
			`{"authScheme":"BASIC","val":{"username":"a\"\\\u0001\u2028<>&\ufffd"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := MarshalWire(&tt.conn)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			if !json.Valid(got) {
				t.Errorf("invalid JSON %s", got)
			}
			prefix := []byte("prefix")
			appended, err := AppendWire(prefix, &tt.conn)
			if err != nil || string(appended) != "prefix"+tt.want {
				t.Errorf("AppendWire = %s, %v", appended, err)
			}
		})
	}
}

func TestMarshalWireErrors(t *testing.T) {
	t.Parallel()
	if _, err := MarshalWire(nil); err == nil {
		t.Error("nil connection: no error")
	}
	bad := []Connection{
		{Val: Val{AuthedUser: raw(`{`)}},
		{Val: Val{Extra: map[string]json.RawMessage{"my_secret": raw(`secret-value`)}}},
	}
	for _, c := range bad {
		_, err := MarshalWire(&c)
		if err == nil || strings.Contains(err.Error(), "secret-value") || !strings.HasPrefix(err.Error(), "credentials:") {
			t.Errorf("got error %v", err)
		}
	}
}

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "plain", "\x00\x1f\x7f", "é€😀", "\u2028\u2029", "\xff\xfe", "tab\tnl\ncr\r", `q"b\`} {
		var want string
		b, _ := json.Marshal(s)
		_ = json.Unmarshal(b, &want)
		var got string
		if err := json.Unmarshal(appendString(nil, s), &got); err != nil || got != want {
			t.Errorf("%q: got %q (%v), want %q", s, got, err, want)
		}
	}
}

func TestIsNumber(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"0", "-0", "1", "3600", "1.5", "-1.5e10", "1E+2", "0.0e-0", "", "-", "01", "1.", ".5", "1e", "+1", "0x10", "Inf", "NaN", "1_0", " 1", "1 "} {
		want := json.Valid([]byte(s)) && s != "" && strings.TrimSpace(s) == s && (s[0] == '-' || s[0] >= '0' && s[0] <= '9')
		if got := isNumber(s); got != want {
			t.Errorf("isNumber(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestGetSetDelete(t *testing.T) {
	t.Parallel()
	var v Val
	v.Set("subdomain", "acme")
	v.Set("instanceEndpoint", "https://na1.example.com")
	v.Set("custom", "c")
	v.Set("password", "")
	v.Set("authed_user", "u")
	if v.Subdomain != "acme" || v.InstanceEndpoint != "https://na1.example.com" {
		t.Errorf("typed fields not set: %s", v.plain())
	}
	var w Val
	if err := json.Unmarshal([]byte(`{"n":12,"b":false,"o":{},"a":[],"z":null,"s":"x","version":2}`), &w); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		v      *Val
		key    string
		want   string
		wantOK bool
	}{
		{&v, "subdomain", "acme", true},
		{&v, "custom", "c", true},
		{&v, "password", "", true},
		{&v, "authed_user", "u", true},
		{&v, "absent", "", false},
		{&v, "token", "", false},
		{&w, "n", "12", true},
		{&w, "b", "false", true},
		{&w, "o", "", false},
		{&w, "a", "", false},
		{&w, "z", "", false},
		{&w, "s", "x", true},
		{&w, "version", "2", true},
	}
	for _, tt := range tests {
		got, ok := tt.v.Get(tt.key)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("Get(%q) = %q, %v; want %q, %v", tt.key, got, ok, tt.want, tt.wantOK)
		}
	}

	b, _ := MarshalWire(&Connection{Val: v})
	want := `{"authScheme":"","val":{"subdomain":"acme","instanceEndpoint":"https://na1.example.com","authed_user":"u","custom":"c","password":""}}`
	if string(b) != want {
		t.Errorf("wire\ngot  %s\nwant %s", b, want)
	}

	v.Set("password", "p")
	if v.Password != "p" || v.Extra["password"] != nil {
		t.Errorf("Set non-empty after empty: %s", v.plain())
	}
	for _, k := range []string{"password", "custom", "authed_user", "subdomain", "instanceEndpoint"} {
		v.Delete(k)
		if _, ok := v.Get(k); ok {
			t.Errorf("Delete(%q) left it", k)
		}
	}
	if s := v.plain(); s != "{}" {
		t.Errorf("after deletes: %s", s)
	}
}

func TestClone(t *testing.T) {
	t.Parallel()
	c := &Connection{AuthScheme: OAuth2, Val: Val{AccessToken: "a", AuthedUser: raw(`{"x":1}`), Extra: map[string]json.RawMessage{"k": raw(`"v"`)}}}
	d := c.Clone()
	if !reflect.DeepEqual(c, d) {
		t.Fatal("clone differs")
	}
	d.Val.Set("k", "changed")
	d.Val.AuthedUser[2] = 'y'
	if string(c.Val.Extra["k"]) != `"v"` || string(c.Val.AuthedUser) != `{"x":1}` {
		t.Error("clone shares memory with the original")
	}
	if (*Connection)(nil).Clone() != nil {
		t.Error("nil clone")
	}
}

func TestConnectionJSONRoundTrip(t *testing.T) {
	t.Parallel()
	in := `{"authScheme":"OAUTH2","toolkitSlug":"slack","val":{"access_token":"xoxb","expires_in":"43200","scope":["chat:write"],"authed_user":{"id":"U1","access_token":"xoxp"},"team":{"id":"T1"},"password":""}}`
	var c Connection
	if err := json.Unmarshal([]byte(in), &c); err != nil {
		t.Fatal(err)
	}
	if c.AuthScheme != OAuth2 || c.ToolkitSlug != "slack" || c.Val.AccessToken != "xoxb" || c.Val.ExpiresIn != "43200" {
		t.Fatalf("decoded %s", c.Val.plain())
	}
	out, err := MarshalWire(&c)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"authScheme":"OAUTH2","toolkitSlug":"slack","val":{"access_token":"xoxb","expires_in":43200,"authed_user":{"id":"U1","access_token":"xoxp"},"password":"","scope":["chat:write"],"team":{"id":"T1"}}}`
	if string(out) != want {
		t.Errorf("got  %s\nwant %s", out, want)
	}
}

// FuzzValRoundTrip decodes any JSON object into a Val, encodes it for the
// wire and decodes it again: the two Vals must be equal, the encoding must
// be stable, and every key of the input must be in the output with the
// same value (up to the documented normalisations).
func FuzzValRoundTrip(f *testing.F) {
	for _, s := range []string{
		`{}`,
		`{"access_token":"a","expires_in":3600,"scope":["a"],"password":"","x":{"y": [1, 2.5e3, null]}}`,
		`{"expires_in":"3600","expires_at":"2026-01-01T00:00:00Z","credentials_json":{"k": "v"}}`,
		`{"credentials_json":"not json","authed_user":null,"token":null,"your-domain":"d","COMPANYDOMAIN":1}`,
		`{"a":"\u0000\ud800\u2028","b":"\xff","expires_in":-0.5E-3,"expires_at":"01"}`,
		`{"token":"x","token":"y","":""}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var orig map[string]json.RawMessage
		if json.Unmarshal(data, &orig) != nil || orig == nil {
			return
		}
		var v1 Val
		if err := json.Unmarshal(data, &v1); err != nil {
			t.Fatalf("Val rejects what a map accepts: %v", err)
		}
		b1, err := MarshalWire(&Connection{Val: v1})
		if err != nil {
			t.Fatalf("MarshalWire: %v", err)
		}
		var c2 Connection
		if err := json.Unmarshal(b1, &c2); err != nil {
			t.Fatalf("re-decode %s: %v", b1, err)
		}
		if !reflect.DeepEqual(v1, c2.Val) {
			t.Fatalf("round trip differs\nfirst  %s\nsecond %s", v1.plain(), c2.Val.plain())
		}
		b2, _ := MarshalWire(&c2)
		if !bytes.Equal(b1, b2) {
			t.Fatalf("encoding not stable\n%s\n%s", b1, b2)
		}
		var out struct{ Val map[string]json.RawMessage }
		if err := json.Unmarshal(b1, &out); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(slices.Sorted(maps.Keys(orig)), slices.Sorted(maps.Keys(out.Val))) {
			t.Fatalf("keys differ: in %v, out %v", slices.Sorted(maps.Keys(orig)), slices.Sorted(maps.Keys(out.Val)))
		}
		for k, a := range orig {
			if !sameValue(k, a, out.Val[k]) {
				t.Errorf("key %q: in %s, out %s", k, a, out.Val[k])
			}
		}
	})
}

// sameValue compares a value before and after the round trip, allowing
// the documented normalisations.
func sameValue(key string, in, out json.RawMessage) bool {
	text := func(r json.RawMessage) string { // a string's text or a literal
		var s string
		if json.Unmarshal(r, &s) == nil {
			return s
		}
		return string(r)
	}
	switch {
	case (key == "expires_in" || key == "expires_at") && text(in) != "" && (in[0] == '"' || in[0] == '-' || in[0] >= '0' && in[0] <= '9'):
		return text(in) == text(out)
	case key == "credentials_json" && len(in) > 0 && in[0] == '{':
		want := string(compact(in))
		_ = json.Unmarshal(appendString(nil, want), &want) // invalid UTF-8 → U+FFFD
		return want == text(out)
	}
	var a, b any
	da, db := json.NewDecoder(bytes.NewReader(in)), json.NewDecoder(bytes.NewReader(out))
	da.UseNumber()
	db.UseNumber()
	if da.Decode(&a) != nil || db.Decode(&b) != nil {
		return false
	}
	return reflect.DeepEqual(a, b)
}

func TestNumericTypedField(t *testing.T) {
	t.Parallel()
	var c Connection
	if err := json.Unmarshal([]byte(`{"authScheme":"SERVICE_ACCOUNT","val":{"application_id":123456,"installation_id":"42"}}`), &c); err != nil {
		t.Fatal(err)
	}
	if c.Val.ApplicationID != "123456" || c.Val.InstallationID != "42" {
		t.Fatalf("decoded %s", c.Val.plain())
	}
	want := `{"authScheme":"SERVICE_ACCOUNT","val":{"application_id":123456,"installation_id":"42"}}`
	if b, _ := MarshalWire(&c); string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	c.Val.Set("application_id", "7")
	want = `{"authScheme":"SERVICE_ACCOUNT","val":{"application_id":"7","installation_id":"42"}}`
	if b, _ := MarshalWire(&c); string(b) != want {
		t.Errorf("after Set: got  %s\nwant %s", b, want)
	}
}
