package composiohttp

// Slugs of the proxy's own errors (Error.Slug), one per condition a caller
// may branch on. The proxy answers its errors as
// {"error": {message, code, slug, status, request_id, suggested_fix, errors[]}};
// the fake in package testutil answers with these same slugs.
//
// Branch with CodeOf rather than on the slug where you can: CodeOf also
// sorts a reply that carries no slug (a 429 carries only a flat
// {"message": ...} body) or a slug not listed here, by its status.
//
//	status   slug                        condition                                         Code
//	400      ValidationError             the envelope is invalid; Errors says where       CodeInvalidRequest
//	400/413  PayloadTooLarge             binary_body.base64 over 4 MB / request too large CodePayloadTooLarge
//	400      MissingAuthContext          no connected account id, no connection           CodeNoAuthContext
//	400      OriginMismatch              absolute endpoint off the account's site         CodeOriginMismatch
//	400      BinaryBodyFetchFailed       binary_body.url could not be fetched             CodeInvalidRequest
//	401      InvalidAPIKey               the API key is missing or wrong                  CodeUnauthenticated
//	404      ConnectedAccountNotFound    no such connected account                        CodeAccountNotFound
//	404      NotFound                    no such path (wrong BaseURL or APIVersion)       CodeInvalidRequest
//	405      MethodNotAllowed            the proxy path was not called with POST          CodeInvalidRequest
//	422      ConnectedAccountNotActive   the account is not ACTIVE (expired, revoked...)  CodeAccountNotActive
//	422      InvalidConnectionData       the connection lacks a field or cannot apply     CodeInvalidRequest
//	429      RateLimitExceeded           the organisation's rate limit                    CodeRateLimited
//	500      InternalServerError         the proxy failed                                 CodeUnavailable
//	501      AuthSchemeNotSupported      the proxy has no adapter for the auth scheme     CodeInvalidRequest
//	502      BadGateway                  the proxy could not reach the upstream           CodeUnavailable
//	503      ServiceUnavailable          the proxy is overloaded or down                  CodeUnavailable
//	504      UpstreamTimeout             the upstream did not answer in time              CodeUnavailable
const (
	SlugValidationError           = "ValidationError"
	SlugPayloadTooLarge           = "PayloadTooLarge"
	SlugMissingAuthContext        = "MissingAuthContext"
	SlugOriginMismatch            = "OriginMismatch"
	SlugBinaryBodyFetchFailed     = "BinaryBodyFetchFailed"
	SlugInvalidAPIKey             = "InvalidAPIKey"
	SlugConnectedAccountNotFound  = "ConnectedAccountNotFound"
	SlugNotFound                  = "NotFound"
	SlugMethodNotAllowed          = "MethodNotAllowed"
	SlugConnectedAccountNotActive = "ConnectedAccountNotActive"
	SlugInvalidConnectionData     = "InvalidConnectionData"
	SlugRateLimitExceeded         = "RateLimitExceeded"
	SlugInternalServerError       = "InternalServerError"
	SlugAuthSchemeNotSupported    = "AuthSchemeNotSupported"
	SlugBadGateway                = "BadGateway"
	SlugServiceUnavailable        = "ServiceUnavailable"
	SlugUpstreamTimeout           = "UpstreamTimeout"
)
