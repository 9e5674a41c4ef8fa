package credentials

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

func benchConn() *Connection {
	return &Connection{AuthScheme: OAuth2, ToolkitSlug: "github", Val: Val{
		AccessToken: "gho_0123456789abcdefghijklmnopqrstuvwxyz", TokenType: "bearer",
		RefreshToken: "ghr_0123456789abcdefghijklmnopqrstuvwxyz", ExpiresIn: "28800",
		Scope: "repo,user", Extra: map[string]json.RawMessage{"plan": json.RawMessage(`"pro"`)},
	}}
}

func BenchmarkAppendWire(b *testing.B) {
	c := benchConn()
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = AppendWire(buf[:0], c); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnmarshalVal(b *testing.B) {
	data, _ := MarshalWire(benchConn())
	b.ReportAllocs()
	for b.Loop() {
		var c Connection
		if err := json.Unmarshal(data, &c); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCachingSourceHit(b *testing.B) {
	cs := CachingSource(StaticSource(benchConn()))
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := cs.Connection(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkRedactURL: a URL without secrets, with escaped values but
// no secret, and with a secret (plain, or inside an escaped value).
func BenchmarkRedactURL(b *testing.B) {
	for _, bc := range []struct{ name, raw string }{
		{"plain", "https://api.github.com/repos/a/b/issues?state=open&page=2&per_page=100"},
		{"escaped", "https://api.github.com/search/issues?q=is%3Aopen+label%3Abug%20x&page=2"},
		{"escaped-eq", "https://api.example.com/x?filter=a%3Db%3Bc%3Dd&page=2"},
		{"secret", "https://api.example.com/x?page=2&access_token=SECRETVALUE"},
		{"escaped-secret", "https://api.example.com/x?page=2&a=1%3Baccess_token%3DSECRETVALUE"},
		{"path-params", "https://api.example.com/app;lang=en/x;v=2?page=2"},
		{"path-secret", "https://api.example.com/app;jsessionid=SECRETVALUE/x?page=2"},
		{"escaped-twice-secret", "https://api.example.com/x?page=2&a=b%3D1%253Baccess_token%253DSECRETVALUE"},
		// Hostile: 64 KiB of nesting ("%252525…3D", each level of
		// decoding one "25" shorter) and 64 KiB of escaped pairs; the
		// cost must stay linear in the query's length.
		{"hostile-nested-64k", "https://h/x?a=%25" + strings.Repeat("25", 32<<10) + "3Dx"},
		{"hostile-pairs-64k", "https://h/x?a=" + strings.Repeat("b%3D%2526c%253D", 4<<10)},
	} {
		u, err := url.Parse(bc.raw)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				RedactURL(u)
			}
		})
	}
}

// BenchmarkQuerySecrets: what Dump and vcr learn from a query; the
// hostile row (64 KiB of secret pairs, each escaped inside) must stay
// linear.
func BenchmarkQuerySecrets(b *testing.B) {
	for _, bc := range []struct{ name, q string }{
		{"plain", "state=open&page=2&per_page=100"},
		{"escaped-secret", "page=2&a=1%3Baccess_token%3DSECRETVALUE"},
		{"hostile-secrets-64k", strings.Repeat("a=1%3Btoken%3Dx&", 4<<10)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				QuerySecrets(bc.q)
			}
		})
	}
}
