package composiohttp

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
)

// TestVetoErrorHidesEverySecretOfTheURL: an AllowDownload veto that
// quotes the URL it was handed shows none of the secrets RedactURL hides
// in it (urlSecrets, which also scrubs BaseURL's from a
// ProxyUnreachableError): a secret path parameter, a secret after a ";"
// in the query, a secret escaped inside a value; ordinary parts stay.
func TestVetoErrorHidesEverySecretOfTheURL(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ raw, secret, kept string }{
		{"https://bucket.example/obj;jsessionid=PATHSECRET1/x?v=1", "PATHSECRET1", "/obj;jsessionid="},
		{"https://bucket.example/obj?a=1;sig=SEMISECRET2&v=1", "SEMISECRET2", "a=1;sig="},
		{"https://bucket.example/obj?c=y%3Btoken%3DESCSECRET3&v=1", "ESCSECRET3", "c="},
		{"https://bucket.example/obj?X-Amz-Signature=AMZSECRET4&v=1", "AMZSECRET4", "X-Amz-Signature="},
		{"https:" + "//bucket.example/obj;sid=OPAQUESECRET5", "OPAQUESECRET5", "/obj;sid="},
	} {
		u, err := url.Parse(tt.raw)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(tt.raw, "OPAQUE") {
			u = &url.URL{Scheme: u.Scheme, Opaque: "//" + u.Host + u.EscapedPath()}
		}
		verr := vetoError(fmt.Errorf("not ours: %s (%s)", u, u.Path), u)
		for _, s := range []string{verr.Error(), fmt.Sprintf("%+v %#v", verr, verr)} {
			if strings.Contains(s, tt.secret) || !strings.Contains(s, tt.kept) {
				t.Errorf("%s: veto error %q, want %q hidden, %q kept", tt.raw, s, tt.secret, tt.kept)
			}
		}
	}
}
