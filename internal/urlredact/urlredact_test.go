package urlredact

import (
	"net/url"
	"strings"
	"testing"
)

func TestShown(t *testing.T) {
	t.Parallel()
	hidePath := func(u *url.URL) *url.URL {
		u.Path = strings.Replace(u.Path, "/bot123:abc", "/bot[REDACTED]", 1)
		return u
	}
	keepDefault := func(*url.URL) *url.URL { return nil }
	for _, tc := range []struct {
		name        string
		in          string
		user        func(*url.URL) *url.URL
		want        string
		wantChanged bool
	}{
		{"nothing secret", "https://api.example.com/x?page=2", nil, "https://api.example.com/x?page=2", false},
		{"secret query value", "https://api.example.com/x?api_key=k&page=2", nil, "https://api.example.com/x?api_key=[REDACTED]&page=2", true},
		{"user info and fragment", "https://u:p@api.example.com/x#access_token=t", nil, "https://api.example.com/x", true},
		{"the user's redactor, after the default", "https://api.telegram.org/bot123:abc/send?token=t", hidePath,
			"https://api.telegram.org/bot%5BREDACTED%5D/send?token=[REDACTED]", true},
		// A URL from the user counts as changed even when it is the same.
		{"the user's redactor returns it unchanged", "https://api.example.com/x", func(u *url.URL) *url.URL { return u }, "https://api.example.com/x", true},
		{"the user's nil keeps the default", "https://api.example.com/x?token=t", keepDefault, "https://api.example.com/x?token=[REDACTED]", true},
		{"the user's nil, nothing secret", "https://api.example.com/x", keepDefault, "https://api.example.com/x", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			u, err := url.Parse(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			before := *u
			got, changed := Shown(u, tc.user)
			if got.String() != tc.want || changed != tc.wantChanged {
				t.Errorf("Shown = %s, %v; want %s, %v", got, changed, tc.want, tc.wantChanged)
			}
			if *u != before {
				t.Errorf("u modified: %s", u)
			}
		})
	}
	called := false
	if got, changed := Shown(nil, func(u *url.URL) *url.URL { called = true; return u }); got != nil || changed || called {
		t.Errorf("Shown(nil) = %v, %v (user called: %v)", got, changed, called)
	}
}

func TestParamValue(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, value string
		header      bool
		want        string
	}{
		{"Authorization", "Bearer t", true, "[REDACTED]"},
		{"code", "c", true, "c"}, // a secret query parameter, not a secret header
		{"code", "c", false, "[REDACTED]"},
		{"api_key", "", false, ""},
		{"page", "2", false, "2"},
		{"a", "1;access_token=t&b=2", false, "1;access_token=[REDACTED]&b=2"},
		{"a", "1&sig=s", false, "1&sig=[REDACTED]"},
		{"page", "2;per_page=10", false, "2;per_page=10"},
		{"X-Note", "1;access_token=t", true, "1;access_token=t"}, // a header value is not a query
		// Escaped inside the value, sent on escaped twice: hidden as
		// RedactURL hides what is sent.
		{"c", "y%3Bsig%3Ds", false, "[REDACTED]"},
		{"q", "50%25 off", false, "50%25 off"},
	} {
		if got := ParamValue(tc.name, tc.value, tc.header); got != tc.want {
			t.Errorf("ParamValue(%q, %q, %v) = %q, want %q", tc.name, tc.value, tc.header, got, tc.want)
		}
	}
}

// TestParamName: a query parameter's name that reads as parameters of
// its own shows their secret values hidden; other names, and header
// names, as they are.
func TestParamName(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		header bool
		want   string
	}{
		{"page", false, "page"},
		{"access_token", false, "access_token"}, // a secret name: its value is hidden (ParamValue)
		{"x;sig=s", false, "x;sig=[REDACTED]"},
		{"access_token=t", false, "access_token=[REDACTED]"},
		{"a&token=t;b", false, "a&token=[REDACTED]"},
		{"filter=open", false, "filter=open"},
		{"x;sig=s", true, "x;sig=s"}, // a header name is not a query
	} {
		if got := ParamName(tc.name, tc.header); got != tc.want {
			t.Errorf("ParamName(%q, %v) = %q, want %q", tc.name, tc.header, got, tc.want)
		}
	}
}

// TestURLString: a URL written as text is shown redacted when
// credentials.RedactURL hides something (a path parameter too), else
// byte for byte; URLSecrets lists what was hidden, raw and decoded.
func TestURLString(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want, secrets string }{
		{"https://api.example.com/x?page=2", "https://api.example.com/x?page=2", ""},
		{"HTTPS://api.example.com/a;b/x", "HTTPS://api.example.com/a;b/x", ""},
		{"/v1/app;jsessionid=S1/x", "/v1/app;jsessionid=[REDACTED]/x", "S1"},
		{"https://u:pw@h/x;sid=S2?a=1%3Bsig%3DS3", "https://h/x;sid=[REDACTED]?a=[REDACTED]", "pw|S2|1%3Bsig%3DS3|1;sig=S3|S3"},
		{"http://h/%zz", "[REDACTED]", ""},
		{"http:app;jsessionid=S4?q=1", "http:app;jsessionid=[REDACTED]?q=1", "S4"},
		{"sip:alice@atlanta.com;transport=tcp", "sip:alice@atlanta.com;transport=tcp", ""},
	} {
		if got := URLString(tc.in); got != tc.want {
			t.Errorf("URLString(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if got := strings.Join(URLSecrets(tc.in), "|"); got != tc.secrets {
			t.Errorf("URLSecrets(%q) = %q, want %q", tc.in, got, tc.secrets)
		}
	}
}
