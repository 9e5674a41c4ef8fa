package vcr_test

import (
	"io"
	"path/filepath"
	"testing"

	"github.com/composiohttp/composiohttp/testutil/vcr"
)

// BenchmarkReplay is one proxy call answered from a cassette: matching
// (envelope parse, scrub, digest) and the replayed reply through the
// Transport.
func BenchmarkReplay(b *testing.B) {
	name := filepath.Join(b.TempDir(), "bench")
	srv := newFake(b)
	rec, err := vcr.New(name, vcr.WithMode(vcr.ModeRecordOnly), vcr.WithRealTransport(srv.Transport().Base))
	if err != nil {
		b.Fatal(err)
	}
	tr := srv.Transport()
	tr.Base, tr.ConnectedAccountID = rec, "ca_api"
	resp, err := tr.RoundTrip(newReq("GET", "https://api.example.com/json?tag=a", "", "Accept", "application/json"))
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
	if err := rec.Stop(); err != nil {
		b.Fatal(err)
	}
	replay, err := vcr.New(name, vcr.WithMode(vcr.ModeReplayOnly), vcr.WithReplayable(true))
	if err != nil {
		b.Fatal(err)
	}
	defer replay.Stop()
	rtr := replay.Transport()
	rtr.ConnectedAccountID = "ca_api"
	b.ReportAllocs()
	for b.Loop() {
		resp, err := rtr.RoundTrip(newReq("GET", "https://api.example.com/json?tag=a", "", "Accept", "application/json"))
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}
