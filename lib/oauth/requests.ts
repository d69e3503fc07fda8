/** The parameters and bodies of the provider sign-in and linking routes (docs/openapi.yaml), validated with valibot. */
import * as v from 'valibot'
import type { PathParameters } from '../http/path-parameters.js'
import { pathParameter, uuidParameter } from '../http/path-parameters.js'
import { PROVIDER_NAME } from './settings.js'

/** RFC 7636 §4.2: a base64url SHA-256 of the verifier, 43 characters. */
const PKCE_CHALLENGE = /^[A-Za-z0-9_-]{43}$/
/** RFC 7636 §4.1: 43 to 128 unreserved characters. */
const PKCE_VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/

const redirectUri = v.pipe(
  v.string('redirect_uri is required'),
  v.nonEmpty('redirect_uri is required'),
  v.maxLength(2048, 'redirect_uri must be at most 2048 characters'),
)
const codeChallenge = v.pipe(
  v.string('code_challenge is required'),
  v.regex(PKCE_CHALLENGE, 'code_challenge must be the base64url SHA-256 of your code_verifier (43 characters)'),
)
const codeChallengeMethod = v.pipe(
  v.string('code_challenge_method is required'),
  v.picklist(['S256'], 'code_challenge_method must be S256'),
)
const clientState = v.pipe(
  v.string(),
  v.maxLength(512, 'state must be at most 512 characters'),
  v.regex(/^[\x21-\x7e]*$/, 'state must be printable ASCII without spaces'),
)

/** The client's side of a sign-in: where to return, its PKCE challenge (S256 only), and its own state. */
const clientSide = {
  redirect_uri: redirectUri,
  code_challenge: codeChallenge,
  code_challenge_method: codeChallengeMethod,
  state: v.optional(clientState),
}

/** GET /auth/oauth/{provider}/authorize's query. */
export const AuthorizeQuery = v.object(clientSide)

/** GET /auth/oauth/{provider}/callback's query: what the provider sends back (checked by openid-client). */
export const CallbackQuery = v.record(
  v.pipe(v.string(), v.maxLength(256, 'a callback parameter has a name over 256 characters')),
  v.pipe(v.string(), v.maxLength(4096, 'a callback parameter is over 4096 characters')),
)

/** The one-time code and the verifier of the challenge it is bound to. */
const redemption = {
  code: v.pipe(v.string('code is required'), v.maxLength(128, 'code must be at most 128 characters')),
  code_verifier: v.pipe(
    v.string('code_verifier is required'),
    v.regex(PKCE_VERIFIER, 'code_verifier must be 43-128 characters (RFC 7636)'),
  ),
}

/** POST /auth/oauth/token. */
export const TokenBody = v.object(redemption)

/** POST /auth/identities/{provider}/link: start a link (where to return, a challenge), or finish it (the code, its verifier). */
export const LinkBody = v.union(
  [v.strictObject(clientSide), v.strictObject(redemption)],
  'send redirect_uri and code_challenge to start, or code and code_verifier to finish',
)

export type AuthorizeInput = v.InferOutput<typeof AuthorizeQuery>
export type TokenInput = v.InferOutput<typeof TokenBody>
export type LinkInput = v.InferOutput<typeof LinkBody>

/** The `{provider}` of a route: a provider's name as written (whether it is configured is the rules' to say), or a 404. */
export const providerParameter = (parameters: PathParameters): string =>
  pathParameter(parameters, 'provider', PROVIDER_NAME, 'oauth_provider_unknown')

/** The `{id}` of /auth/identities/{id}: a link id, or a 404. */
export const linkIdParameter = (parameters: PathParameters): string => uuidParameter(parameters, 'id', 'linked_identity_not_found')
