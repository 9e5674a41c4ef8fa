package schemes_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/schemes"
	"golang.org/x/oauth2"
)

// Default.Apply puts a connection's credentials on a request, as the
// upstream expects them.
func ExampleRegistry_Apply() {
	conn := &credentials.Connection{
		AuthScheme:  credentials.APIKey,
		ToolkitSlug: "shopify",
		Val:         credentials.Val{APIKey: "shpat_123", Shop: "acme"},
	}
	req, _ := http.NewRequest("GET", "https://acme.myshopify.com/admin/api/2024-10/shop.json", nil)
	if err := schemes.Default.Apply(context.Background(), conn, req); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(req.Header.Get("X-Shopify-Access-Token"))
	// Output: shpat_123
}

// ResolveBaseURL fills a toolkit's base URL template from the connection.
func ExampleResolveBaseURL() {
	conn := &credentials.Connection{ToolkitSlug: "zendesk", Val: credentials.Val{Subdomain: "acme"}}
	base, err := schemes.ResolveBaseURL(conn)
	fmt.Println(base, err)

	_, err = schemes.ResolveBaseURL(&credentials.Connection{ToolkitSlug: "zendesk"})
	fmt.Println(err)
	// Output:
	// https://acme.zendesk.com <nil>
	// credentials: toolkit "zendesk" needs connection field "subdomain"
}

// Users add toolkits of their own; API keys go where the entry says.
func ExampleToolkitRegistry_Register() {
	schemes.DefaultToolkits.Register(schemes.Toolkit{
		Slug:    "exampleinternal",
		BaseURL: "https://{region}.internal.example.com/v2",
		APIKey:  schemes.Placement{Header: "X-Api-Token"},
	})
	conn := &credentials.Connection{AuthScheme: credentials.APIKey, ToolkitSlug: "exampleinternal",
		Val: credentials.Val{APIKey: "k1", Region: "eu"}}
	base, _ := schemes.ResolveBaseURL(conn)
	req, _ := http.NewRequest("GET", base+"/items", nil)
	_ = schemes.Default.Apply(context.Background(), conn, req)
	fmt.Println(req.URL, req.Header.Get("X-Api-Token"))
	// Output: https://eu.internal.example.com/v2/items k1
}

// OAuth1 signs requests per RFC 5849; this is the RFC's own example.
func ExampleOAuth1() {
	a := &schemes.OAuth1{
		ConsumerSecret: "kd94hf93k423kf44",
		Realm:          "Photos",
		OmitVersion:    true,
		Now:            func() time.Time { return time.Unix(137131202, 0) },
		Nonce:          func() string { return "chapoH" },
	}
	conn := &credentials.Connection{AuthScheme: credentials.OAuth1, Val: credentials.Val{
		ConsumerKey: "dpf43f3p2l4k3l03", OAuthToken: "nnch734d00sl2jdk", OAuthTokenSecret: "pfkkdhi9sl3r4s00"}}
	req, _ := http.NewRequest("GET", "http://photos.example.net/photos?file=vacation.jpg&size=original", nil)
	_ = a.Apply(context.Background(), conn, req)
	fmt.Println(req.Header.Get("Authorization"))
	// Output: OAuth realm="Photos", oauth_consumer_key="dpf43f3p2l4k3l03", oauth_nonce="chapoH", oauth_signature_method="HMAC-SHA1", oauth_timestamp="137131202", oauth_token="nnch734d00sl2jdk", oauth_signature="MdpQcU8iPSUjWoN%2FUDMsK2sui9I%3D"
}

// Transport sends requests straight to the upstream with credentials you
// hold (direct mode); relative URLs resolve against the toolkit's base URL.
func ExampleTransport() {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %s", r.URL.Path, r.Header.Get("Authorization"))
	}))
	defer upstream.Close()

	client := &http.Client{Transport: &schemes.Transport{
		Connection: &credentials.Connection{
			AuthScheme:  credentials.OAuth2,
			ToolkitSlug: "github",
			Val:         credentials.Val{AccessToken: "gho_abc", BaseURL: upstream.URL},
		},
	}}
	resp, err := client.Get("/user") // no host: resolved against base_url
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	fmt.Println(string(b))
	// Output: /user Bearer gho_abc
}

// OnRefresh persists tokens an OAuth2 adapter refreshed, so that a
// provider rotating refresh tokens keeps working after a restart.
func ExampleOAuth2_onRefresh() {
	tokenEndpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"access_token":"at-2","token_type":"Bearer","expires_in":3600,"refresh_token":"rt-2"}`)
	}))
	defer tokenEndpoint.Close()

	a := &schemes.OAuth2{
		TokenURL: tokenEndpoint.URL,
		OnRefresh: func(ctx context.Context, conn *credentials.Connection, tok *oauth2.Token) {
			// Save tok.AccessToken, tok.RefreshToken and tok.Expiry in
			// your store, keyed by the connection.
			fmt.Println("persist refresh token", tok.RefreshToken)
		},
	}
	conn := &credentials.Connection{AuthScheme: credentials.OAuth2, Val: credentials.Val{
		AccessToken: "at-1", RefreshToken: "rt-1", ExpiresAt: "2020-01-01T00:00:00Z"}}
	req, _ := http.NewRequest("GET", "https://api.example.com/me", nil)
	if err := a.Apply(context.Background(), conn, req); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(req.Header.Get("Authorization"))
	// Output:
	// persist refresh token rt-2
	// Bearer at-2
}
