package main

import (
	"context"
	"strings"
	"testing"
)

func TestQuickstartOnTheFake(t *testing.T) {
	t.Setenv("COMPOSIO_API_KEY", "")
	var out strings.Builder
	if err := run(context.Background(), &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`GET /user -> 200 OK {"id":583231,"login":"octocat","name":"The Octocat"}`,
		`POST /repos/octocat/hello-world/issues -> 201 Created {"number":3,"title":"Hello from composiohttp","body":"sent through the proxy","state":"open"}`,
		`GET /repos/octocat/hello-world/zipball -> 200 OK, application/zip, 22 bytes (streamed from a signed URL), zip magic ok: true`,
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
