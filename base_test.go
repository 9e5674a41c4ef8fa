package composiohttp

import (
	"net/http"
	"testing"
)

// The default Base is a clone of http.DefaultTransport tuned
// for one host (idle connections per host at least the typical
// concurrency, HTTP/2 attempted), made once and shared by every Transport
// without a Base; http.DefaultTransport itself is left alone.
func TestDefaultBase(t *testing.T) {
	t.Parallel()
	a := &Transport{APIKey: "ak_test", ConnectedAccountID: "ca_1"}
	b := &Transport{APIKey: "ak_test", ConnectedAccountID: "ca_2"}
	ba, bb := a.config().base, b.config().base
	if ba != bb {
		t.Error("two Transports without Base got two default Bases; want one shared")
	}
	if ba != DefaultBase() {
		t.Error("the default Base is not DefaultBase()")
	}
	if ba == http.DefaultTransport {
		t.Fatal("the default Base is http.DefaultTransport itself (2 idle connections per host)")
	}
	ht, ok := ba.(*http.Transport)
	if !ok {
		t.Fatalf("default Base is a %T, want *http.Transport", ba)
	}
	if ht.MaxIdleConnsPerHost < 64 || ht.MaxIdleConns < ht.MaxIdleConnsPerHost {
		t.Errorf("MaxIdleConnsPerHost %d, MaxIdleConns %d; want >= 64 and MaxIdleConns >= per host", ht.MaxIdleConnsPerHost, ht.MaxIdleConns)
	}
	if !ht.ForceAttemptHTTP2 || ht.Proxy == nil || ht.DialContext == nil || ht.TLSHandshakeTimeout == 0 || ht.IdleConnTimeout == 0 {
		t.Errorf("not a tuned clone of http.DefaultTransport: %+v", ht)
	}
	if dt := http.DefaultTransport.(*http.Transport); dt.MaxIdleConnsPerHost != 0 {
		t.Errorf("http.DefaultTransport was modified: MaxIdleConnsPerHost %d", dt.MaxIdleConnsPerHost)
	}
	c := &Transport{APIKey: "ak_test", ConnectedAccountID: "ca_1", Base: http.DefaultTransport}
	if c.config().base != http.DefaultTransport {
		t.Error("an explicit Base is not used as is")
	}
}
