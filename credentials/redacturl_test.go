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
