package testutil_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/internal/redactcheck"
	"github.com/composiohttp/composiohttp/middleware/logging"
	"github.com/composiohttp/composiohttp/testutil"
)

// TestEverySchemeSecretHiddenInRecords: for each of the eleven schemes,
// with every field it requires (and refresh_token, client_secret) set to
// a planted secret, a call through the fake as a connected account and
// as custom_connection_data shows none of them in the fake's Calls,
// LastCall and Requests, in the upstream Echo's records, or in the
// logging middleware's lines and debug dump.
func TestEverySchemeSecretHiddenInRecords(t *testing.T) {
	t.Parallel()
	for _, scheme := range credentials.Schemes() {
		if scheme == credentials.ServiceAccount || scheme == credentials.GoogleServiceAccount {
			continue // their exchange needs a token endpoint; the fields are checked by redactcheck through Val
		}
		t.Run(string(scheme), func(t *testing.T) {
			t.Parallel()
			val := credentials.Val{BaseURL: "https://api.example.com", ConsumerKey: "ck_12345"}
			reqs, _ := credentials.Required(scheme)
			keys := []string{"refresh_token", "client_secret"}
			for _, alts := range reqs {
				keys = append(keys, alts[0])
			}
			var secrets []string
			for _, k := range keys {
				v := "PLANTED_" + string(scheme) + "_" + k
				if !credentials.IsSecret(k) {
					val.Set(k, "12345")
					continue
				}
				val.Set(k, v)
				secrets = append(secrets, v)
			}
			if val.Username != "" || val.Password != "" {
				secrets = append(secrets, base64.StdEncoding.EncodeToString([]byte(val.Username+":"+val.Password)))
			}
			echo := testutil.NewEcho()
			srv := testutil.NewServer(t)
			srv.AddAccount(testutil.Account{ID: "ca_1", AuthScheme: scheme, Val: val, Handler: echo})
			srv.AddUpstream("https://api.example.com", echo)
			var logs, dump bytes.Buffer
			tr := srv.Transport()
			tr.Base = logging.Dump(&dump, tr.Base)
			client := &http.Client{Transport: logging.New(tr, logging.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))}
			for _, ctx := range []context.Context{
				composiohttp.WithConnectedAccount(context.Background(), "ca_1"),
				composiohttp.WithConnection(context.Background(), &credentials.Connection{AuthScheme: scheme, Val: val}),
			} {
				req, _ := http.NewRequestWithContext(ctx, "POST", "https://api.example.com/v1/x?page=1", strings.NewReader(`{"a":1}`))
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			if n := srv.CallCount("", "/"); n != 2 {
				t.Fatalf("%d upstream calls", n)
			}
			last, _ := srv.LastCall("", "/")
			echoes, _ := echo.Last()
			for name, v := range map[string]any{"Calls": srv.Calls("", "/"), "LastCall": last, "Requests": srv.Requests(),
				"Echo": echo.Requests(), "EchoRequest": echoes} {
				t.Run(name, func(t *testing.T) { redactcheck.Check(t, v, secrets...) })
			}
			for name, out := range map[string]string{"logs": logs.String(), "dump": dump.String()} {
				for _, s := range secrets {
					if strings.Contains(out, s) {
						t.Errorf("%s show %q:\n%s", name, s, out)
					}
				}
			}
		})
	}
}
