// # Built-in toolkits
//
// DefaultToolkits holds these toolkits, by Composio slug: the base URL
// relative endpoints resolve against ({field} is filled from the
// connection), and where an API_KEY connection's key goes. Register
// others on a ToolkitRegistry. (Generated from the registry: go test
// ./schemes -run TestToolkitList -update.)
//
//   - airtable: https://api.airtable.com; Authorization: Bearer <key>
//   - asana: https://app.asana.com/api/1.0; Authorization: Bearer <key>
//   - calendly: https://api.calendly.com; Authorization: Bearer <key>
//   - clickup: https://api.clickup.com/api/v2; Authorization: <key>
//   - confluence: https://{subdomain}.atlassian.net/wiki; Basic auth, username field as user, key as password
//   - discord: https://discord.com/api; Authorization: Bearer <key>
//   - discordbot: https://discord.com/api; Authorization: Bot <key>
//   - dropbox: https://api.dropboxapi.com/2; Authorization: Bearer <key>
//   - figma: https://api.figma.com; X-Figma-Token: <key>
//   - github: https://api.github.com; Authorization: Bearer <key>
//   - gitlab: https://gitlab.com/api/v4; PRIVATE-TOKEN: <key>
//   - gmail: https://gmail.googleapis.com; query ?key=<key>
//   - googlecalendar: https://www.googleapis.com/calendar/v3; query ?key=<key>
//   - googledrive: https://www.googleapis.com/drive/v3; query ?key=<key>
//   - googlesheets: https://sheets.googleapis.com; query ?key=<key>
//   - hubspot: https://api.hubapi.com; Authorization: Bearer <key>
//   - intercom: https://api.intercom.io; Authorization: Bearer <key>
//   - jira: https://{subdomain}.atlassian.net; Basic auth, username field as user, key as password
//   - linear: https://api.linear.app; Authorization: <key>
//   - mailchimp: https://{dc}.api.mailchimp.com/3.0; Basic auth, user "anystring", key as password
//   - notion: https://api.notion.com; Authorization: Bearer <key>
//   - openai: https://api.openai.com; Authorization: Bearer <key>
//   - outlook: https://graph.microsoft.com/v1.0; Authorization: Bearer <key>
//   - perplexityai: https://api.perplexity.ai; Authorization: Bearer <key>
//   - salesforce: {instanceEndpoint}; Authorization: Bearer <key>
//   - sendgrid: https://api.sendgrid.com; Authorization: Bearer <key>
//   - shopify: https://{shop}.myshopify.com; X-Shopify-Access-Token: <key>
//   - slack: https://slack.com/api; Authorization: Bearer <key>
//   - stripe: https://api.stripe.com; Authorization: Bearer <key>
//   - trello: https://api.trello.com; query ?key=<key>, and ?token=<token>
//   - twitter: https://api.x.com; Authorization: Bearer <key>
//   - youtube: https://www.googleapis.com/youtube/v3; query ?key=<key>
//   - zendesk: https://{subdomain}.zendesk.com; Basic auth, username field as user, key as password
package schemes
