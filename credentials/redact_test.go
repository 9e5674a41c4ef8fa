package credentials

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"strings"
	"testing"
)

// secretConn has every secret key set to a value containing "SECRET", and
// non-secret keys set to values that must stay visible.
func secretConn() *Connection {
	c := &Connection{AuthScheme: OAuth2, ToolkitSlug: "github"}
	for _, f := range fields {
		if f.secret {
			c.Val.Set(f.key, "SECRET-"+f.key)
		}
	}
	c.Val.Set("subdomain", "visible-sub")
	c.Val.Set("client_id", "visible-client")
	c.Val.Set("plan", "visible-plan")
	c.Val.AuthedUser = json.RawMessage(`{"access_token":"SECRET-authed"}`)
	c.Val.Extra = map[string]json.RawMessage{
		"plan":                      json.RawMessage(`"visible-plan"`),
		"webhook_signature":         json.RawMessage(`"SECRET-sig"`),
		"registration_access_token": json.RawMessage(`{"t":"SECRET-obj"}`),
		"proxy_password":            json.RawMessage(`"SECRET-pp"`),
		"devKey":                    json.RawMessage(`12345`), // number secret: SECRET would not show; check below
		"empty_secret":              json.RawMessage(`""`),
		// Secrets nested under keys that are not secret.
		"metadata": json.RawMessage(`{"api_key":"SECRET1","note":"visible-note","empty_key":"","deep":{"refresh_token":"SECRET4","n":[1,{"Password":"SECRET5"}]}}`),
		"headers":  json.RawMessage(`[{"Authorization":"Bearer SECRET2","Accept":"visible-accept"}]`),
		// A typed key that is not secret holding an object lands in Extra.
		"scope": json.RawMessage(`{"token":"SECRET3","list":["visible-scope"]}`),
	}
	return c
}

// nestedSecrets are the secrets secretConn holds inside objects and arrays.
var nestedSecrets = []string{"SECRET1", "SECRET2", "SECRET3", "SECRET4", "SECRET5"}

func checkRedacted(t *testing.T, what, out string) {
	t.Helper()
	if strings.Contains(out, "SECRET") || strings.Contains(out, "12345") {
		t.Errorf("%s leaks a secret: %s", what, out)
	}
	visibles := []string{"visible-sub", "visible-client", "visible-plan", Redacted,
		"visible-note", "visible-accept", "visible-scope"}
	if !strings.Contains(what, "Val") && !strings.Contains(what, "map") {
		visibles = append(visibles, "OAUTH2", "github")
	}
	for _, visible := range visibles {
		if !strings.Contains(out, visible) && !strings.Contains(strings.ToLower(out), fmt.Sprintf("%x", visible)) {
			t.Errorf("%s hides %q: %s", what, visible, out)
		}
	}
}

func TestRedactionFmt(t *testing.T) {
	t.Parallel()
	c := secretConn()
	type wrapper struct {
		Name string
		Conn Connection
		Ptr  *Connection
		Val  Val
		VPtr *Val
		Any  any
	}
	w := wrapper{Name: "w", Conn: *c, Ptr: c, Val: c.Val, VPtr: &c.Val, Any: c}
	verbs := []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%10v", "%-5s", "%d", "%T %v"}
	for _, verb := range verbs {
		for name, arg := range map[string]any{
			"Connection": *c, "*Connection": c, "Val": c.Val, "*Val": &c.Val,
			"wrapper": w, "*wrapper": &w, "slice": []Connection{*c}, "map": map[string]*Val{"k": &c.Val},
		} {
			if verb == "%T %v" {
				checkRedacted(t, verb+" "+name, fmt.Sprintf(verb, arg, arg))
				continue
			}
			out := fmt.Sprintf(verb, arg)
			if verb == "%d" && strings.HasPrefix(name, "wrapper") {
				// %d of a struct applies to each field; strings give %!d.
				if strings.Contains(out, "SECRET") {
					t.Errorf("%s %s leaks: %s", verb, name, out)
				}
				continue
			}
			checkRedacted(t, verb+" "+name, out)
		}
	}
	// Print, Println, log.
	checkRedacted(t, "Sprint", fmt.Sprint(c))
	checkRedacted(t, "Sprintln", fmt.Sprintln(*c))
	var buf bytes.Buffer
	log.New(&buf, "", 0).Printf("conn=%v val=%+v", c, c.Val)
	checkRedacted(t, "log", buf.String())
	// A nil pointer prints as <nil>, without panicking.
	var nc *Connection
	var nv *Val
	if got := fmt.Sprintf("%v %+v %#v", nc, nv, nc); !strings.Contains(got, "<nil>") {
		t.Errorf("nil: %s", got)
	}
}

func TestRedactionGoString(t *testing.T) {
	t.Parallel()
	c := Connection{AuthScheme: Basic, ToolkitSlug: "jira", Val: Val{Username: "u", Subdomain: "acme", Extra: map[string]json.RawMessage{"n": json.RawMessage(`1`)}}}
	want := `credentials.Connection{AuthScheme:"BASIC", ToolkitSlug:"jira", Val:credentials.Val{Username:"[REDACTED]", Subdomain:"acme", Extra:{"n":1}}}`
	if got := fmt.Sprintf("%#v", c); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestRedactNested(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, key, raw, want string
	}{
		{"object", "metadata", `{"api_key":"S","note":"n"}`, `{"api_key":"[REDACTED]","note":"n"}`},
		{"array of objects", "headers", `[{"Authorization":"Bearer S","Accept":"*/*"}]`, `[{"Accept":"*/*","Authorization":"[REDACTED]"}]`},
		{"typed key not secret", "scope", `{"token":"S"}`, `{"token":"[REDACTED]"}`},
		{"deep", "m", `{"a":[{"b":{"client_secret":{"x":1}}}]}`, `{"a":[{"b":{"client_secret":"[REDACTED]"}}]}`},
		{"empty and null secrets kept", "m", `{"password":"","token":null}`, `{"password":"","token":null}`},
		{"secret number", "m", `{"pin_key":1234}`, `{"pin_key":"[REDACTED]"}`},
		{"numbers keep their text", "m", `{"n":1.50,"big":12345678901234567890}`, `{"big":12345678901234567890,"n":1.50}`},
		{"no HTML escaping", "m", `{"url":"https://x?a=1&b=<2>"}`, `{"url":"https://x?a=1&b=<2>"}`},
		{"secret key holding an object", "token", `{"a":"S"}`, `"[REDACTED]"`},
		{"string", "plan", `"pro"`, `"pro"`},
		{"invalid JSON", "plan", `{"api_key":"S"`, `"[REDACTED]"`},
		{"invalid scalar", "plan", `S S`, `"[REDACTED]"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := redactRaw(tt.key, json.RawMessage(tt.raw)); got != tt.want {
				t.Errorf("redactRaw(%q, %s) = %s, want %s", tt.key, tt.raw, got, tt.want)
			}
		})
	}
}

func TestRedactionJSON(t *testing.T) {
	t.Parallel()
	c := secretConn()
	for name, arg := range map[string]any{"Connection": *c, "*Connection": c, "Val": c.Val, "nested": struct{ C *Connection }{c}} {
		b, err := json.Marshal(arg)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !json.Valid(b) {
			t.Errorf("%s: invalid JSON %s", name, b)
		}
		checkRedacted(t, "json "+name, string(b))
	}
	// The wire encoding still carries every secret.
	wire, err := MarshalWire(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fields {
		if f.secret && !bytes.Contains(wire, []byte("SECRET-"+f.key)) {
			t.Errorf("wire lost %s", f.key)
		}
	}
	for _, s := range append([]string{"SECRET-authed", "SECRET-sig", "SECRET-obj", "12345"}, nestedSecrets...) {
		if !bytes.Contains(wire, []byte(s)) {
			t.Errorf("wire lost %s", s)
		}
	}
	// Redacted JSON of an empty secret keeps the empty string.
	b, _ := json.Marshal(Val{Extra: map[string]json.RawMessage{"password": json.RawMessage(`""`)}})
	if string(b) != `{"password":""}` {
		t.Errorf("empty secret: %s", b)
	}
}

func TestRedactionSlog(t *testing.T) {
	t.Parallel()
	c := secretConn()
	for name, h := range map[string]func(*bytes.Buffer) slog.Handler{
		"json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
		"text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
	} {
		var buf bytes.Buffer
		logger := slog.New(h(&buf))
		logger.Info("call", "conn", c, "val", c.Val, slog.Any("byvalue", *c))
		logger.With("conn", c).Info("with")
		logger.WithGroup("g").Info("group", "conn", c)
		checkRedacted(t, "slog "+name, buf.String())
		if name == "json" {
			for _, line := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
				if !json.Valid(line) {
					t.Errorf("invalid JSON log line %s", line)
				}
			}
			if !strings.Contains(buf.String(), `"conn":{"authScheme":"OAUTH2","toolkitSlug":"github","val":{`) {
				t.Errorf("unexpected JSON shape: %s", buf.String())
			}
		}
	}
}

func TestRedactionErrors(t *testing.T) {
	t.Parallel()
	c := secretConn()
	c.AuthScheme = ServiceAccount
	c.Val.ApplicationID = ""
	err := c.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	wrapped := fmt.Errorf("call: %w", err)
	for _, s := range []string{err.Error(), wrapped.Error(), fmt.Sprintf("%+v", wrapped), fmt.Sprintf("%#v", err)} {
		if strings.Contains(s, "SECRET") {
			t.Errorf("error leaks: %s", s)
		}
	}
	var mf *MissingFieldError
	if !errors.As(wrapped, &mf) || mf.Field != "application_id" {
		t.Errorf("errors.As: %v", mf)
	}
}

func TestIsSecret(t *testing.T) {
	t.Parallel()
	tests := map[string]bool{
		"access_token": true, "refresh_token": true, "id_token": true, "client_secret": true,
		"generic_api_key": true, "api_key": true, "bearer_token": true, "basic_encoded": true,
		"token": true, "username": true, "password": true, "oauth_token": true,
		"oauth_token_secret": true, "oauth_verifier": true, "private_key": true,
		"credentials_json": true, "authed_user": true,
		"token_type": false, "expires_in": false, "expires_at": false, "scope": false,
		"client_id": false, "consumer_key": false, "application_id": false,
		"installation_id": false, "subdomain": false, "your-domain": false,
		"base_url": false, "instanceEndpoint": false, "COMPANYDOMAIN": false,
		// Extra keys by name.
		"webhook_signature": true, "registration_access_token": true, "proxy_password": true,
		"proxy_username": true, "devKey": true, "sessionId": true, "X-API-KEY": true,
		"code_verifier": true, "Cookie": true, "plan": false, "team": false,
		"borneo_dashboard_url": false, "state_prefix": false,
		// Header names in any case, and Unicode case mapping.
		"X-Shopify-Access-Token": true, "PRIVATE-TOKEN": true, "x-auth-token": true,
		"Proxy-Authorization": true, "Set-Cookie": true, "X-Request-Id": false,
		"Content-Type": false, "\u212Aey": true, "ToKeN": true, "tok": false,
	}
	for key, want := range tests {
		if got := IsSecret(key); got != want {
			t.Errorf("IsSecret(%q) = %v, want %v", key, got, want)
		}
	}
}

// IsSecret runs on every header name of every request through package
// cache and logging: no allocation for an ASCII name.
func TestIsSecretAllocs(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { IsSecret("X-Shopify-Access-Token"); IsSecret("Content-Type") }); n != 0 {
		t.Errorf("IsSecret of an ASCII header name: %v allocs, want 0", n)
	}
}
