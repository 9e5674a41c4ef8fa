package schemes_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/schemes"
)

// Strict mode turns credentials that would be withheld into an error that
// names the connection's site: here the connection's base URL is another
// server than the one the request goes to.
func ExampleTransport_strict() {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "Authorization:", r.Header.Get("Authorization"))
	}))
	defer api.Close()
	conn := &credentials.Connection{AuthScheme: credentials.BearerToken,
		Val: credentials.Val{Token: "tok", BaseURL: "https://api.example.com"}}

	lenient := &schemes.Transport{Connection: conn, OnWithheld: func(_ *http.Request, e *schemes.WithheldError) {
		fmt.Println("withheld; site", e.Site)
	}}
	resp, err := (&http.Client{Transport: lenient}).Get(api.URL)
	if err == nil {
		resp.Body.Close()
		fmt.Println("lenient: sent, status", resp.StatusCode)
	}

	strict := &schemes.Transport{Connection: conn, Strict: true}
	_, err = (&http.Client{Transport: strict}).Get(api.URL)
	fmt.Println("strict:", errors.Is(err, schemes.ErrCredentialsWithheld))
	// Output:
	// withheld; site https://api.example.com
	// lenient: sent, status 200
	// strict: true
}
