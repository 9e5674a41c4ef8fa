package credentials

import (
	"context"
	"encoding/json"
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
