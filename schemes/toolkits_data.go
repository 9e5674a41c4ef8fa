package schemes

// builtinToolkits are the entries of DefaultToolkits. Slugs are Composio's
// toolkit slugs. Each entry names, in a comment, the provider's public
// documentation its base URL, API-key placement and token URL were checked
// against ("verified:"), and says which parts were not found in a document
// search and come from the provider's docs by memory. Where a provider's API
// keys are not meant for this kind of call the placement is the provider's
// convention all the same, and OAuth 2 is the usual scheme.
//
// Composio slugs verified: github, gmail, linear
// (https://docs.composio.dev/tool-router/tools-and-toolkits) and discordbot
// (https://docs.composio.dev/kb/guide/toolkits-discordbot); the others were
// not found in search and follow Composio's lower-case, no-separator
// spelling.
var builtinToolkits = []Toolkit{
	// verified: https://docs.github.com/rest/authentication/authenticating-to-the-rest-api
	// ("Authorization: Bearer" or "token"). Token URL not found in search;
	// from GitHub docs by memory (github.com/login/oauth/access_token).
	{Slug: "github", BaseURL: "https://api.github.com",
		TokenURL: "https://github.com/login/oauth/access_token"},
	// verified: https://docs.gitlab.com/17.7/ee/api/rest/authentication.html
	// (personal access tokens in the PRIVATE-TOKEN header, OAuth tokens as
	// Bearer; REST under /api/v4). Token URL not found in search; from
	// GitLab docs by memory.
	{Slug: "gitlab", BaseURL: "https://gitlab.com/api/v4",
		APIKey:   Placement{Header: "PRIVATE-TOKEN"},
		TokenURL: "https://gitlab.com/oauth/token"},
	// verified: https://docs.slack.dev/apis/web-api (methods at
	// https://slack.com/api/METHOD) and
	// https://github.com/slackhq/slack-api-docs/blob/master/index_web.md
	// (bearer token). Token URL oauth.v2.access: Slack method list
	// (https://docs.slack.dev/tools/node-slack-sdk/reference/web-api/type-aliases/OauthV2AccessResponse).
	{Slug: "slack", BaseURL: "https://slack.com/api",
		TokenURL: "https://slack.com/api/oauth.v2.access"},
	// Google API keys: https://docs.cloud.google.com/docs/authentication/api-keys-use
	// (found; the "key" query parameter itself not shown in the search
	// excerpt). Service endpoints (gmail.googleapis.com,
	// sheets.googleapis.com, www.googleapis.com/{calendar,drive}/...,
	// youtube/v3) and the token URL oauth2.googleapis.com/token not found in
	// search; from Google API docs by memory.
	{Slug: "gmail", BaseURL: "https://gmail.googleapis.com",
		APIKey: Placement{Query: "key"}, TokenURL: googleTokenURL, CredentialHosts: googleHosts},
	// developers.google.com/calendar/api/v3/reference (by memory).
	{Slug: "googlecalendar", BaseURL: "https://www.googleapis.com/calendar/v3",
		APIKey: Placement{Query: "key"}, TokenURL: googleTokenURL, CredentialHosts: googleHosts},
	// developers.google.com/drive/api/reference/rest/v3 (by memory).
	{Slug: "googledrive", BaseURL: "https://www.googleapis.com/drive/v3",
		APIKey: Placement{Query: "key"}, TokenURL: googleTokenURL, CredentialHosts: googleHosts},
	// developers.google.com/sheets/api/reference/rest (by memory).
	{Slug: "googlesheets", BaseURL: "https://sheets.googleapis.com",
		APIKey: Placement{Query: "key"}, TokenURL: googleTokenURL, CredentialHosts: googleHosts},
	// developers.google.com/youtube/v3/docs (by memory).
	{Slug: "youtube", BaseURL: "https://www.googleapis.com/youtube/v3",
		APIKey: Placement{Query: "key"}, TokenURL: googleTokenURL, CredentialHosts: googleHosts},
	// verified: https://developers.notion.com/reference/authentication
	// ("Authorization: Bearer", https://api.notion.com/v1/...); every request
	// also needs a Notion-Version header, which the caller (or Notion's SDK)
	// sets: no adapter adds it. Token URL not found in search; from
	// developers.notion.com/reference/create-a-token by memory.
	{Slug: "notion", BaseURL: "https://api.notion.com",
		TokenURL: "https://api.notion.com/v1/oauth/token"},
	// verified earlier: linear.app/developers/graphql: personal API keys go in Authorization
	// with no prefix ("Bearer" is for OAuth tokens only);
	// linear.app/developers/oauth-2-0-authentication for the token URL.
	{Slug: "linear", BaseURL: "https://api.linear.app",
		APIKey:   Placement{Header: "Authorization"},
		TokenURL: "https://api.linear.app/oauth/token"},
	// verified: https://developers.hubspot.com/docs/apps/legacy-apps/authentication/intro-to-auth
	// (private app tokens and OAuth tokens as Bearer, https://api.hubapi.com).
	// Token URL not found in search; from HubSpot OAuth docs by memory.
	{Slug: "hubspot", BaseURL: "https://api.hubapi.com",
		TokenURL: "https://api.hubapi.com/oauth/v1/token"},
	// verified: https://developer.atlassian.com/cloud/jira/platform/jira-rest-api-basic-authentication
	// (site https://your-domain.atlassian.net, API tokens as Basic
	// email:token; the connection's username is the email). OAuth 2 (3LO)
	// token URL auth.atlassian.com/oauth/token not found in search; from
	// Atlassian docs by memory.
	{Slug: "jira", BaseURL: "https://{subdomain}.atlassian.net",
		APIKey:   Placement{Basic: true},
		TokenURL: "https://auth.atlassian.com/oauth/token"},
	// Not found in search; from Atlassian docs by memory
	// (developer.atlassian.com/cloud/confluence/basic-auth-for-rest-apis:
	// REST under https://{site}.atlassian.net/wiki, same Basic scheme and
	// token URL as Jira).
	{Slug: "confluence", BaseURL: "https://{subdomain}.atlassian.net/wiki",
		APIKey:   Placement{Basic: true},
		TokenURL: "https://auth.atlassian.com/oauth/token"},
	// verified: https://support.zendesk.com/hc/en-us/articles/4408831452954
	// (Basic auth with email address and API token;
	// https://{subdomain}.zendesk.com/api/v2). The exact
	// "{email}/token:{api_token}" form (put "{email}/token" in username) and
	// the token URL are from developer.zendesk.com by memory.
	{Slug: "zendesk", BaseURL: "https://{subdomain}.zendesk.com",
		APIKey:   Placement{Basic: true},
		TokenURL: "https://{subdomain}.zendesk.com/oauth/tokens"},
	// Shopify's own page (https://shopify.dev/docs/api/usage/authentication)
	// was found without the header; third-party
	// https://accesstokengen.com/how-to-use-shopify-access-token confirms
	// X-Shopify-Access-Token (not Bearer) and https://{shop}.myshopify.com.
	{Slug: "shopify", BaseURL: "https://{shop}.myshopify.com",
		APIKey: Placement{Header: "X-Shopify-Access-Token"}},
	// verified: https://developer.salesforce.com/docs/atlas.en-us.222.0.api_rest.meta/api/intro_understanding_oauth_endpoints.htm
	// (token endpoint login.salesforce.com/services/oauth2/token) and
	// https://developer.salesforce.com/docs/atlas.en-us.262.0.chatterapi.meta/chatterapi/quickstart_connecting.htm
	// (responses carry instance_url; token_type Bearer).
	{Slug: "salesforce", BaseURL: "{instanceEndpoint}",
		TokenURL: "https://login.salesforce.com/services/oauth2/token"},
	// verified: https://docs.stripe.com/api/authentication (secret key as
	// Basic user name, or "Authorization: Bearer" as documented alternative;
	// https://api.stripe.com/v1). Token URL connect.stripe.com/oauth/token:
	// seen in golang.org/x/oauth2's provider list
	// (https://go.googlesource.com/oauth2/+/85a72d36ea095436c19e8d43c371e963d7a0f410%5E%21/).
	{Slug: "stripe", BaseURL: "https://api.stripe.com",
		TokenURL: "https://connect.stripe.com/oauth/token"},
	// Airtable's own page not found in search; Bearer personal access tokens
	// on https://api.airtable.com/v0 per https://docs.n8n.io/credentials/airtable/
	// (pointing to airtable.com/developers/web/api/authentication). Token URL
	// from Airtable's oauth-reference by memory.
	{Slug: "airtable", BaseURL: "https://api.airtable.com",
		TokenURL: "https://airtable.com/oauth2/v1/token"},
	// verified: https://developers.asana.com/docs/personal-access-token
	// (PATs in Authorization like OAuth tokens) and
	// https://developers.asana.com/docs/oauth ("Authorization: Bearer";
	// token exchange POST https://app.asana.com/-/oauth_token).
	{Slug: "asana", BaseURL: "https://app.asana.com/api/1.0",
		TokenURL: "https://app.asana.com/-/oauth_token"},
	// verified: https://developer.atlassian.com/cloud/trello/guides/rest-api/api-introduction
	// (API key and user token; requests like
	// https://api.trello.com/1/members/me/boards?key=...&token=...).
	{Slug: "trello", BaseURL: "https://api.trello.com",
		APIKey:      Placement{Query: "key"},
		APIKeyExtra: []FieldPlacement{{Field: "token", Placement: Placement{Query: "token"}}}},
	// verified: https://github.com/discord/discord-api-docs/blob/main/developers/reference.mdx
	// (base URL https://discord.com/api) and
	// https://docs.discord.com/developers/discord-social-sdk/development-guides/using-with-discord-apis
	// (bot tokens prefixed "Bot", user tokens "Bearer"). Token URL
	// discord.com/api/oauth2/token from Discord's OAuth2 docs by memory.
	// Composio's "discordbot" slug: https://docs.composio.dev/kb/guide/toolkits-discordbot.
	{Slug: "discord", BaseURL: "https://discord.com/api",
		TokenURL: "https://discord.com/api/oauth2/token"},
	{Slug: "discordbot", BaseURL: "https://discord.com/api",
		APIKey: Placement{Header: "Authorization", Prefix: "Bot "}},
	// verified: https://docs.x.com/fundamentals/authentication/oauth-2-0/user-access-token
	// (OAuth 2 PKCE, confidential clients use Basic at the token endpoint)
	// and https://docs.x.com/xdks/python/reference/xdk.oauth2_auth (X's SDK
	// defaults the API and token endpoint base to https://api.x.com). X
	// still serves the legacy host api.twitter.com, but it is another
	// registrable domain: code that addresses it by absolute URL must
	// switch to api.x.com (or use relative paths). Composio's slug is
	// "twitter" (not found in search).
	{Slug: "twitter", BaseURL: "https://api.x.com",
		TokenURL: "https://api.x.com/2/oauth2/token"},
	// Perplexity's own reference not found in search; Bearer on
	// https://api.perplexity.ai/chat/completions per
	// https://gist.github.com/sergenes/392d8a278d0c46e68551908738214d4a, and
	// https://docs.perplexity.ai/docs/getting-started/integrations/composio
	// documents Composio's Perplexity toolkit. Slug "perplexityai" not found
	// in search.
	{Slug: "perplexityai", BaseURL: "https://api.perplexity.ai"},
	// OpenAI's own page not found in search; a copy of its API reference
	// (https://share.apidog.com/apidoc/docs-site/370474/doc-349097) says the
	// key goes in the Authorization header; "Bearer" and api.openai.com from
	// platform.openai.com/docs/api-reference/authentication by memory.
	{Slug: "openai", BaseURL: "https://api.openai.com"},
	// verified: https://www.twilio.com/docs/sendgrid/api-reference/how-to-use-the-sendgrid-v3-api/authentication
	// ("Authorization: Bearer <key>", https://api.sendgrid.com/v3/...).
	{Slug: "sendgrid", BaseURL: "https://api.sendgrid.com"},
	// verified: https://mailchimp.com/developer/guides/marketing-api-conventions/
	// (root https://<dc>.api.mailchimp.com/3.0/, API key as the password of
	// Basic auth with "anystring" as user name). Token URL not found in
	// search; from Mailchimp's OAuth 2 guide by memory.
	{Slug: "mailchimp", BaseURL: "https://{dc}.api.mailchimp.com/3.0",
		APIKey:   Placement{Basic: true, BasicUser: "anystring"},
		TokenURL: "https://login.mailchimp.com/oauth2/token"},
	// https://www.dropbox.com/developers/documentation/http/overview (API v2
	// over HTTP, found) and https://riptutorial.com/dropbox-api ("Authorization:
	// Bearer"). Base https://api.dropboxapi.com/2 and the token URL from
	// Dropbox's HTTP documentation by memory.
	{Slug: "dropbox", BaseURL: "https://api.dropboxapi.com/2",
		TokenURL: "https://api.dropboxapi.com/oauth2/token"},
	// verified token endpoint:
	// https://learn.microsoft.com/en-us/answers/questions/1626221/microsoft-entra-spa-and-api-failing-to-authenticat
	// (/common/oauth2/v2.0/token for multitenant and personal accounts).
	// Graph base https://graph.microsoft.com/v1.0 from learn.microsoft.com/graph
	// by memory.
	{Slug: "outlook", BaseURL: "https://graph.microsoft.com/v1.0",
		TokenURL: "https://login.microsoftonline.com/common/oauth2/v2.0/token"},
	// verified: https://developer.calendly.com/api-docs/calendly-o-auth/o-auth/post-oauth-refresh-token
	// (POST https://auth.calendly.com/oauth/token) and
	// https://developer.calendly.com/docs/authentication/how-to-authenticate-with-personal-access-tokens.
	// Bearer on https://api.calendly.com from Calendly's API reference by
	// memory.
	{Slug: "calendly", BaseURL: "https://api.calendly.com",
		TokenURL: "https://auth.calendly.com/oauth/token"},
	// verified: https://developer.clickup.com/docs/authentication
	// ("Authorization: {personal_token}", no prefix; tokens begin pk_) and
	// host https://api.clickup.com/api/v2 per ClickUp's API blueprint
	// (https://gist.github.com/ChangJoo-Park/2abe0ec8fbe946eb7782d4856c83f927).
	{Slug: "clickup", BaseURL: "https://api.clickup.com/api/v2",
		APIKey: Placement{Header: "Authorization"}},
	// verified: https://developers.figma.com/docs/rest-api/personal-access-tokens/
	// (personal access tokens in X-Figma-Token; https://api.figma.com).
	{Slug: "figma", BaseURL: "https://api.figma.com",
		APIKey: Placement{Header: "X-Figma-Token"}},
	// https://developers.intercom.com/docs/build-an-integration/learn-more/authentication
	// (access tokens; found, header not in the excerpt) and Intercom's
	// official Node SDK, which sends "Bearer <token>"
	// (https://app.unpkg.com/intercom-client@6.4.0/files/core/auth/BearerToken.js).
	// Base https://api.intercom.io from Intercom docs by memory.
	{Slug: "intercom", BaseURL: "https://api.intercom.io"},
}

const googleTokenURL = "https://oauth2.googleapis.com/token"

// googleHosts: Google's APIs share one credential across the hosts of
// googleapis.com (gmail., sheets., www., storage., the upload endpoints),
// a private suffix of the public suffix list.
var googleHosts = []string{"*.googleapis.com"}
