package credentials

import (
	"net/url"
	"testing"
)

func TestRedactURL(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"https://h/p", "https://h/p"},
		{"https://h/p?page=2&per_page=10", "https://h/p?page=2&per_page=10"},
		{"https://h/p?access_token=x&page=2", "https://h/p?access_token=[REDACTED]&page=2"},
		{"https://h/p?API_KEY=x", "https://h/p?API_KEY=[REDACTED]"},
		{"https://h/p?my%5Ftoken=x", "https://h/p?my%5Ftoken=[REDACTED]"},
		{"https://h/p?%zz=x&a=b", "https://h/p?%zz=[REDACTED]&a=b"},
		{"https://h/p?token&a=&&password=", "https://h/p?token&a=&&password=[REDACTED]"},
		{"https://u:p@h/p?a=b", "https://h/p?a=b"},
		{"/relative?sig=abc", "/relative?sig=[REDACTED]"},
		{"https://h/cb#access_token=x&state=s", "https://h/cb"},
		{"https://h/p?token=x#frag", "https://h/p?token=[REDACTED]"},
		// ";" separates parameters for some servers: a secret after it
		// is redacted too; the separators stay as they were.
		{"https://h/p?a=1;access_token=SECRET", "https://h/p?a=1;access_token=[REDACTED]"},
		{"https://h/p?access_token=SECRET;a=1", "https://h/p?access_token=[REDACTED]"},
		{"https://h/p?page=2;per_page=10", "https://h/p?page=2;per_page=10"},
		{"https://h/p?a=1&b=2;sig=SECRET;c=3&d=4", "https://h/p?a=1&b=2;sig=[REDACTED];c=3&d=4"},
		{"https://h/p?x;token=SECRET", "https://h/p?x;token=[REDACTED]"},
	}
	for _, tt := range tests {
		u, err := url.Parse(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		got, changed := RedactURL(u)
		if got.String() != tt.want || changed != (tt.in != tt.want) {
			t.Errorf("RedactURL(%s) = %s, %v; want %s", tt.in, got, changed, tt.want)
		}
		if u.String() != tt.in {
			t.Errorf("input modified: %s", u)
		}
	}
}

func TestRedactURLNoSecretNoAlloc(t *testing.T) { // not parallel: AllocsPerRun
	u, _ := url.Parse("https://api.github.com/repos/a/b?page=2&per_page=100")
	if n := testing.AllocsPerRun(100, func() { RedactURL(u) }); n != 0 {
		t.Errorf("%v allocations for a URL without secrets", n)
	}
}

// TestRedactQuery: the values of secret parameters are redacted whether
// the parameters are separated by "&" or by ";" (which some servers split
// on too); a value is hidden as far as any server reads it (up to the
// next "&" for a secret name before any ";"), everything else is kept
// byte for byte, separators included.
func TestRedactQuery(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"", ""},
		{"a=1&b=2", "a=1&b=2"},
		{"a=1;b=2", "a=1;b=2"},
		{"a=1&access_token=SECRET", "a=1&access_token=[REDACTED]"},
		{"a=1;access_token=SECRET", "a=1;access_token=[REDACTED]"},
		{"a=1;access_token=SECRET&b=2", "a=1;access_token=[REDACTED]&b=2"},
		{"a=1;access_token=SECRET;b=2", "a=1;access_token=[REDACTED];b=2"},
		// A server splitting on "&" only reads token's value as "abc;def=x".
		{"token=abc;def=x&b=2", "token=[REDACTED]&b=2"},
		{"client_secret=SECRET;", "client_secret=[REDACTED]"},
		{";;sig=SECRET;;", ";;sig=[REDACTED];;"},
		{"a=1&", "a=1&"},
		{"a;b", "a;b"},
		{"password=SECRET1;api_key=SECRET2", "password=[REDACTED]"},
		{"q=x;code=SECRET", "q=x;code=[REDACTED]"},
	}
	for _, tt := range tests {
		if got := RedactQuery(tt.in); got != tt.want {
			t.Errorf("RedactQuery(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
