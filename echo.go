package composiohttp

import (
	"github.com/composiohttp/composiohttp/credentials"
)

// scrubEchoes replaces, in the text of a proxy error, every exact
// occurrence of a secret the call sent (credentials.Scrub): the API key,
// the values of secret headers sent to the proxy (credentials.IsSecret
// names, such as a custom X-Auth-Token), BaseURL's password and secret
// query values (sentSecrets, as for ProxyUnreachableError), and the secret values of the
// connection sent as custom_connection_data. A proxy that quotes what it
// was sent (in message, errors[], request_id, suggested_fix or the
// X-Request-Id header) then exposes none of it in Error(), in logs or in
// spans. It runs only on the error path.
func scrubEchoes(e *Error, c *config, conn *credentials.Connection) {
	secrets := c.sentSecrets()
	if conn != nil {
		secrets = append(secrets, conn.Val.SecretValues()...)
	}
	scrub := func(s *string) { *s = credentials.Scrub(*s, secrets...) }
	scrub(&e.Message)
	scrub(&e.Slug)
	scrub(&e.RequestID)
	scrub(&e.SuggestedFix)
	for i := range e.Errors {
		scrub(&e.Errors[i])
	}
}
