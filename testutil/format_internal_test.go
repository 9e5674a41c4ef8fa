package testutil

import (
	"net/url"
	"strings"
	"testing"
)

// TestRecordedBodyShown pins how a recorded envelope prints: the parameter
// rules are the fake's own (headers by credentials.IsSecret, query
// parameters by credentials.IsSecretParam), the rest is
// credentials.RedactJSON's. A body that is not one JSON value (a second
// value after the first) is not shown: the fake used to print its first
// value alone.
func TestRecordedBodyShown(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, body, want string
	}{
		{"secret header", `{"parameters":[{"name":"Authorization","type":"header","value":"Bearer s3cret"}]}`,
			`{"parameters":[{"name":"Authorization","type":"header","value":"[REDACTED]"}]}`},
		{"code: a secret query parameter, not a secret header",
			`{"parameters":[{"name":"code","type":"query","value":"c1"},{"name":"code","type":"header","value":"c2"}]}`,
			`{"parameters":[{"name":"code","type":"query","value":"[REDACTED]"},{"name":"code","type":"header","value":"c2"}]}`},
		{"empty secret stays empty", `{"parameters":[{"name":"api_key","type":"query","value":""}]}`,
			`{"parameters":[{"name":"api_key","type":"query","value":""}]}`},
		{"secret keys at any depth, numbers and HTML kept", `{"body":{"n":1.50,"html":"<a&b>","deep":[{"password":"p"}]}}`,
			`{"body":{"deep":[{"password":"[REDACTED]"}],"html":"<a&b>","n":1.50}}`},
		// As composiohttp.Parameter prints: a query value that reads as
		// parameters of its own shows its secret ones hidden.
		{"query value with a secret after a semicolon",
			`{"parameters":[{"name":"a","type":"query","value":"1;access_token=s3cret&b=2"},{"name":"page","type":"query","value":"2;per_page=10"}]}`,
			`{"parameters":[{"name":"a","type":"query","value":"1;access_token=[REDACTED]&b=2"},{"name":"page","type":"query","value":"2;per_page=10"}]}`},
		{"secret name, value not a string", `{"parameters":[{"name":"api_key","type":"query","value":12345},{"name":"n","type":"query","value":7}]}`,
			`{"parameters":[{"name":"api_key","type":"query","value":"[REDACTED]"},{"name":"n","type":"query","value":7}]}`},
		{"not JSON", `nope`, `"[4 bytes, not JSON, not shown]"`},
		{"two values", `{"a":1} {"token":"t"}`, `"[21 bytes, not JSON, not shown]"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := string(Recorded{Body: []byte(tc.body)}.shownBody())
			if got != tc.want {
				t.Errorf("shown body\n got %s\nwant %s", got, tc.want)
			}
			if strings.Contains(got, "s3cret") {
				t.Error("secret shown")
			}
		})
	}
}

// TestShownURL pins how the fake shows an upstream URL (UpstreamCall.URL,
// EchoRequest.Path): RedactURL's rules, then an escaped query value that
// reads as parameters of its own shown as composiohttp.Parameter prints it.
func TestShownURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"https://h/x?page=2", "https://h/x?page=2"},
		{"https://h/x?token=s3cret", "https://h/x?token=[REDACTED]"},
		{"https://h/x?a=1%3Baccess_token%3Ds3cret&b=2", "https://h/x?a=1%3Baccess_token%3D[REDACTED]&b=2"},
		{"https://h/x?a=1%26sig%3Ds3cret", "https://h/x?a=1%26sig%3D[REDACTED]"},
		{"https://h/x?a=x%3By%3Dz&q=caf%C3%A9", "https://h/x?a=x%3By%3Dz&q=caf%C3%A9"},
		{"https://h/x?a=%zz;token=s3cret", "https://h/x?a=%zz;token=[REDACTED]"},
		{"https://h/x?a=1%3Bx%3D2;token=s3cret", "https://h/x?a=1%3Bx%3D2;token=[REDACTED]"},
		{"https://h/x?a=1%3Btoken%3Ds3cret;sig=s3cret%3Bc%3Dd", "https://h/x?a=1%3Btoken%3D[REDACTED]"},
		{"https://h/x?token=1%3Bs3cret&a=x%26code%3ds3cret", "https://h/x?token=[REDACTED]&a=x%26code%3D[REDACTED]"},
		// A value that does not decode strictly is hidden whole.
		{"https://h/x?a=%zz%3Btoken%3Ds3cret", "https://h/x?a=[REDACTED]"},
		// Escaped twice, as the fake forwards a="b=1%3Bsig%3D…": shown
		// as Parameter prints it. A name that decodes to a secret
		// parameter is hidden whole, as RedactURL hides it.
		{"https://h/x?a=b%3D1%253Bsig%253Ds3cret&c=2", "https://h/x?a=b%3D[REDACTED]&c=2"},
		{"https://h/x?access_token%3Ds3cret&c=2", "https://h/x?[REDACTED]&c=2"},
		{"https://h/x?q=50%25+off%3Dyes", "https://h/x?q=50%25+off%3Dyes"},
	} {
		u, err := url.Parse(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		before := *u
		if got := shownURL(u).String(); got != tc.want || strings.Contains(got, "s3cret") {
			t.Errorf("shownURL(%s) = %s, want %s", tc.in, got, tc.want)
		}
		if *u != before {
			t.Errorf("shownURL modified %s", tc.in)
		}
	}
}
