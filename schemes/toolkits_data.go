package schemes

// builtinToolkits are the entries of DefaultToolkits. Slugs are Composio's
// toolkit slugs. Each entry names, in a comment, the provider's public
// documentation its base URL, API-key placement and token URL come from.
// Where a provider's API keys are not meant for this kind of call the
// placement is the provider's convention all the same, and OAuth 2 is the
// usual scheme.
var builtinToolkits = []Toolkit{
	// docs.github.com/rest/authentication/authenticating-to-the-rest-api:
	// "Authorization: Bearer" (or "token") for tokens; OAuth apps refresh at
	// github.com/login/oauth/access_token.
	{Slug: "github", BaseURL: "https://api.github.com",
		TokenURL: "https://github.com/login/oauth/access_token"},
	// docs.gitlab.com/api/rest/authentication: PRIVATE-TOKEN header for
	// personal access tokens; docs.gitlab.com/api/oauth2 for the token URL.
	{Slug: "gitlab", BaseURL: "https://gitlab.com/api/v4",
		APIKey:   Placement{Header: "PRIVATE-TOKEN"},
		TokenURL: "https://gitlab.com/oauth/token"},
	// api.slack.com/web (https://slack.com/api/METHOD, Bearer token);
	// api.slack.com/methods/oauth.v2.access for token rotation.
	{Slug: "slack", BaseURL: "https://slack.com/api",
		TokenURL: "https://slack.com/api/oauth.v2.access"},
	// developers.google.com/gmail/api/reference/rest (service endpoint
	// https://gmail.googleapis.com); Google API keys go in the "key" query
	// parameter (cloud.google.com/docs/authentication/api-keys-use);
	// developers.google.com/identity/protocols/oauth2 for the token URL.
	{Slug: "gmail", BaseURL: "https://gmail.googleapis.com",
		APIKey: Placement{Query: "key"}, TokenURL: googleTokenURL},
	// developers.google.com/calendar/api/v3/reference (base
	// https://www.googleapis.com/calendar/v3).
	{Slug: "googlecalendar", BaseURL: "https://www.googleapis.com/calendar/v3",
		APIKey: Placement{Query: "key"}, TokenURL: googleTokenURL},
	// developers.google.com/drive/api/reference/rest/v3 (base
	// https://www.googleapis.com/drive/v3).
	{Slug: "googledrive", BaseURL: "https://www.googleapis.com/drive/v3",
		APIKey: Placement{Query: "key"}, TokenURL: googleTokenURL},
	// developers.google.com/sheets/api/reference/rest (service endpoint
	// https://sheets.googleapis.com).
	{Slug: "googlesheets", BaseURL: "https://sheets.googleapis.com",
		APIKey: Placement{Query: "key"}, TokenURL: googleTokenURL},
	// developers.google.com/youtube/v3/docs (base
	// https://www.googleapis.com/youtube/v3).
	{Slug: "youtube", BaseURL: "https://www.googleapis.com/youtube/v3",
		APIKey: Placement{Query: "key"}, TokenURL: googleTokenURL},
	// developers.notion.com/reference/authentication: "Authorization: Bearer"
	// for integration tokens; every request also needs a Notion-Version
	// header, which the caller (or Notion's SDK) sets: no adapter adds it.
	// developers.notion.com/reference/create-a-token for the token URL.
	{Slug: "notion", BaseURL: "https://api.notion.com",
		TokenURL: "https://api.notion.com/v1/oauth/token"},
	// linear.app/developers/graphql: personal API keys go in Authorization
	// with no prefix ("Bearer" is for OAuth tokens only);
	// linear.app/developers/oauth-2-0-authentication for the token URL.
	{Slug: "linear", BaseURL: "https://api.linear.app",
		APIKey:   Placement{Header: "Authorization"},
		TokenURL: "https://api.linear.app/oauth/token"},
	// developers.hubspot.com/docs/api/private-apps (Bearer) and
	// developers.hubspot.com/docs/api/oauth/tokens.
	{Slug: "hubspot", BaseURL: "https://api.hubapi.com",
		TokenURL: "https://api.hubapi.com/oauth/v1/token"},
	// developer.atlassian.com/cloud/jira/platform/basic-auth-for-rest-apis:
	// site https://{site}.atlassian.net, API tokens as Basic email:token
	// (the connection's username is the email); OAuth 2 (3LO) tokens refresh
	// at auth.atlassian.com/oauth/token.
	{Slug: "jira", BaseURL: "https://{subdomain}.atlassian.net",
		APIKey:   Placement{Basic: true},
		TokenURL: "https://auth.atlassian.com/oauth/token"},
	// developer.atlassian.com/cloud/confluence/basic-auth-for-rest-apis
	// (REST under https://{site}.atlassian.net/wiki).
	{Slug: "confluence", BaseURL: "https://{subdomain}.atlassian.net/wiki",
		APIKey:   Placement{Basic: true},
		TokenURL: "https://auth.atlassian.com/oauth/token"},
	// developer.zendesk.com/api-reference/introduction/security-and-auth:
	// https://{subdomain}.zendesk.com, API tokens as Basic
	// "{email}/token:{api_token}" (put "{email}/token" in username).
	{Slug: "zendesk", BaseURL: "https://{subdomain}.zendesk.com",
		APIKey:   Placement{Basic: true},
		TokenURL: "https://{subdomain}.zendesk.com/oauth/tokens"},
	// shopify.dev/docs/api/admin-rest#authentication: shop at
	// https://{shop}.myshopify.com, access token in X-Shopify-Access-Token.
	{Slug: "shopify", BaseURL: "https://{shop}.myshopify.com",
		APIKey: Placement{Header: "X-Shopify-Access-Token"}},
	// developer.salesforce.com/docs/atlas.en-us.api_rest.meta (requests go
	// to the org's instance URL with a Bearer token; OAuth token endpoint
	// login.salesforce.com/services/oauth2/token).
	{Slug: "salesforce", BaseURL: "{instanceEndpoint}",
		TokenURL: "https://login.salesforce.com/services/oauth2/token"},
	// docs.stripe.com/api/authentication: secret key as Bearer (or Basic
	// user name); docs.stripe.com/connect/oauth-reference for the token URL.
	{Slug: "stripe", BaseURL: "https://api.stripe.com",
		TokenURL: "https://connect.stripe.com/oauth/token"},
	// airtable.com/developers/web/api/authentication (Bearer personal access
	// tokens) and .../oauth-reference for the token URL.
	{Slug: "airtable", BaseURL: "https://api.airtable.com",
		TokenURL: "https://airtable.com/oauth2/v1/token"},
	// developers.asana.com/docs/personal-access-token (Bearer, base
	// https://app.asana.com/api/1.0) and developers.asana.com/docs/oauth.
	{Slug: "asana", BaseURL: "https://app.asana.com/api/1.0",
		TokenURL: "https://app.asana.com/-/oauth_token"},
	// developer.atlassian.com/cloud/trello/guides/rest-api/api-introduction:
	// the API key and the user's token as the key and token query
	// parameters.
	{Slug: "trello", BaseURL: "https://api.trello.com",
		APIKey:      Placement{Query: "key"},
		APIKeyExtra: []FieldPlacement{{Field: "token", Placement: Placement{Query: "token"}}}},
	// discord.com/developers/docs/reference#authentication: OAuth 2 tokens
	// as "Bearer", bot tokens as "Bot"; .../topics/oauth2 for the token URL.
	{Slug: "discord", BaseURL: "https://discord.com/api",
		TokenURL: "https://discord.com/api/oauth2/token"},
	{Slug: "discordbot", BaseURL: "https://discord.com/api",
		APIKey: Placement{Header: "Authorization", Prefix: "Bot "}},
	// docs.x.com/resources/fundamentals/authentication: app-only Bearer
	// tokens; OAuth 2 PKCE tokens refresh at /2/oauth2/token. Composio's
	// slug is "twitter".
	{Slug: "twitter", BaseURL: "https://api.twitter.com",
		TokenURL: "https://api.twitter.com/2/oauth2/token"},
	// docs.perplexity.ai (Bearer API key, https://api.perplexity.ai).
	// Composio's slug is "perplexityai".
	{Slug: "perplexityai", BaseURL: "https://api.perplexity.ai"},
	// platform.openai.com/docs/api-reference/authentication (Bearer).
	{Slug: "openai", BaseURL: "https://api.openai.com"},
	// www.twilio.com/docs/sendgrid/api-reference (Bearer API key,
	// https://api.sendgrid.com).
	{Slug: "sendgrid", BaseURL: "https://api.sendgrid.com"},
	// mailchimp.com/developer/marketing/docs/fundamentals: root
	// https://{dc}.api.mailchimp.com/3.0, API key as the password of Basic
	// auth with any user name; .../guides/access-user-data-oauth-2 for the
	// token URL.
	{Slug: "mailchimp", BaseURL: "https://{dc}.api.mailchimp.com/3.0",
		APIKey:   Placement{Basic: true, BasicUser: "anystring"},
		TokenURL: "https://login.mailchimp.com/oauth2/token"},
	// www.dropbox.com/developers/documentation/http/documentation (RPC
	// endpoints under https://api.dropboxapi.com/2, Bearer).
	{Slug: "dropbox", BaseURL: "https://api.dropboxapi.com/2",
		TokenURL: "https://api.dropboxapi.com/oauth2/token"},
	// learn.microsoft.com/graph/auth-v2-user (Graph v1.0, Microsoft
	// identity platform token endpoint).
	{Slug: "outlook", BaseURL: "https://graph.microsoft.com/v1.0",
		TokenURL: "https://login.microsoftonline.com/common/oauth2/v2.0/token"},
	// developer.calendly.com/api-docs (Bearer, https://api.calendly.com) and
	// auth.calendly.com/oauth/token.
	{Slug: "calendly", BaseURL: "https://api.calendly.com",
		TokenURL: "https://auth.calendly.com/oauth/token"},
	// clickup.com/api (personal tokens in Authorization with no prefix,
	// https://api.clickup.com/api/v2).
	{Slug: "clickup", BaseURL: "https://api.clickup.com/api/v2",
		APIKey: Placement{Header: "Authorization"}},
	// www.figma.com/developers/api#authentication (personal access tokens in
	// X-Figma-Token).
	{Slug: "figma", BaseURL: "https://api.figma.com",
		APIKey: Placement{Header: "X-Figma-Token"}},
	// developers.intercom.com/docs/build-an-integration/learn-more/authentication
	// (Bearer, https://api.intercom.io).
	{Slug: "intercom", BaseURL: "https://api.intercom.io"},
}

const googleTokenURL = "https://oauth2.googleapis.com/token"
