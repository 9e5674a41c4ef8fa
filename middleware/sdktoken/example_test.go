package sdktoken_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/composiohttp/composiohttp/middleware/sdktoken"
	"github.com/composiohttp/composiohttp/testutil"
	"github.com/composiohttp/composiohttp/testutil/fakeslack"
)

// An SDK that puts its token in a form body, as slack-go does, is given
// the placeholder; sdktoken removes it and the proxy adds the real token.
func Example() {
	s := testutil.NewUnstartedServer()
	s.Start()
	defer s.Close()
	s.AddAccount(fakeslack.New("Acme", "xoxb-real").Account("ca_slack"))
	tr := s.Transport()
	tr.ConnectedAccountID = "ca_slack"
	client := &http.Client{Transport: sdktoken.New(tr)}

	// What slack-go sends for auth.test when given the placeholder.
	req, _ := http.NewRequestWithContext(context.Background(), "POST", "https://slack.com/api/auth.test",
		strings.NewReader("token="+sdktoken.Placeholder))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := client.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer res.Body.Close()
	var reply struct {
		OK   bool   `json:"ok"`
		Team string `json:"team"`
	}
	json.NewDecoder(res.Body).Decode(&reply)
	last, _ := s.LastCall("POST", "https://slack.com/api/auth.test")
	fmt.Printf("ok=%v team=%s, upstream body %q\n", reply.OK, reply.Team, last.Body)
	// Output:
	// ok=true team=Acme, upstream body ""
}
