package main

import (
	"context"
	"net/url"
	"testing"
	"time"
)

// TestFidelityScenariosOnTheFake: on the fake, each undocumented case
// shows the fake's documented choice, so a run against the service says
// whether the service agrees.
func TestFidelityScenariosOnTheFake(t *testing.T) {
	echo, _ := newEcho(t)
	target, _ := url.Parse(echo.URL + "/conformance")
	s, stop, err := fakeSide(&options{account: "ca_conf"}, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	cfg := &config{target: target, allowWrites: true}
	want := map[string]map[string]string{
		"envelope sent as text/plain":  {"proxy.status": "400", "error.slug": "ValidationError"},
		"number as a parameter value":  {"proxy.status": "400", "error.slug": "ValidationError"},
		"Host header parameter":        {"proxy.status": "400", "error.slug": "ValidationError"},
		"hop-by-hop header parameters": {"proxy.status": "400", "error.slug": "ValidationError"},
		"empty binary_body.base64":     {"proxy.status": "400", "error.slug": "ValidationError"},
		"non-JSON reply labelled JSON": {"proxy.status": "200"},
	}
	scs := fidelityScenarios()
	if len(scs) != len(want) {
		t.Fatalf("%d scenarios, %d expectations", len(scs), len(want))
	}
	for _, sc := range scs {
		o := runOne(context.Background(), 10*time.Second, sc, cfg, s)
		for k, v := range want[sc.name] {
			if o.vals[k] != v {
				t.Errorf("%s: %s = %q, want %q (all: %v)", sc.name, k, o.vals[k], v, o.vals)
			}
		}
	}
}
