/**
 * Sign in with a provider, for SPAs, mobile apps and other APIs: PKCE end to end, never a login page of ours.
 *
 * 1. `authorize`: the client's redirect_uri must be one of OAUTH_ALLOWED_REDIRECT_URIS exactly; a single-use
 *    flow (random state, nonce, our own PKCE verifier for the provider, the client's challenge) is stored for
 *    ten minutes and the browser sent to the provider.
 * 2. `callback`: the flow is taken once; the provider's answer is checked by openid-client (state, `iss`, the
 *    code exchanged with our verifier, the ID token's signature, issuer, audience and nonce); a 60-second
 *    one-time code bound to the client's challenge is issued, and the browser sent back to the client.
 * 3. `token`: the code and the verifier of that challenge give a token pair, or `mfa_required` for an account
 *    with a second factor (the same rule as a password login). The account is found by (provider, subject),
 *    never by email alone; an address that is another account's is linked only when OAUTH_AUTO_LINK allows it.
 */
import { randomUUID } from 'node:crypto'
import { ApiError } from '@attune-auth/client/errors'
import type { App } from '../app.js'
import { newSession } from '../auth/sessions.js'
import type { FederatedIdentityRepository, ProvenAccount, SignInTarget } from '../db/federated-identities.js'
import { AlreadyLinkedError, IdentityConflictError } from '../db/federated-identities.js'
import type { ClientInfo } from '../http/client.js'
import type { Challenges, MfaRequired } from '../mfa/challenges.js'
import { tooManyAttempts } from '../throttle/refusals.js'
import type { Assurance } from '../tokens/claims.js'
import type { TokenPair } from '../tokens/service.js'
import { generatedLogin, pkceMatches, randomSecret, secretHash } from './accounts.js'
import type { Provider } from './providers.js'
import { ProviderUnavailableError } from './providers.js'
import type { AuthorizeInput, TokenInput } from './requests.js'
import type { OAuthConfig } from './settings.js'
import { OAUTH_CODE_TTL_SECONDS, OAUTH_FLOW_TTL_SECONDS } from './settings.js'

/** How a provider sign-in authenticated (RFC 8176 has no federation value: `fed` is ours, as Okta's). */
export const PROVIDER_SIGN_IN: Pick<Assurance, 'acr' | 'amr'> = Object.freeze({ acr: 'aal1', amr: Object.freeze(['fed']) })

const SECRET = /^[A-Za-z0-9_-]{43}$/
/** Tries at a fresh generated login when one is taken (70 bits each: a second try is already unlikely). */
const LOGIN_TRIES = 3

export type OAuthDependencies = Pick<App, 'config' | 'sessions' | 'tokens' | 'logger' | 'throttle' | 'throttleKeys'> & {
  /** The providers' configuration (lib/config.ts loadOAuthConfig). */
  oauth: OAuthConfig
  providers: ReadonlyMap<string, Provider>
  federated: FederatedIdentityRepository
}

export type OAuthSignInDependencies = OAuthDependencies & { challenges: Pick<Challenges, 'open'> }

/** The provider of a route whose `{provider}` was checked against the configuration. */
export function providerNamed(providers: ReadonlyMap<string, Provider>, name: string): Provider {
  const provider = providers.get(name)
  if (!provider) throw new ApiError('oauth_provider_unknown')
  return provider
}

/** Where the browser goes back to: the client's redirect_uri with our parameters and its own state. */
function backToClient(redirectUri: string, parameters: Record<string, string>, clientState: string | null): string {
  const url = new URL(redirectUri)
  for (const [name, value] of Object.entries(parameters)) url.searchParams.set(name, value)
  if (clientState !== null) url.searchParams.set('state', clientState)
  return url.toString()
}

/**
 * Stores a flow and answers the provider's authorization URL: the first step of a sign-in, and of a link
 * (`linkIdentityId`). A redirect_uri not allowed is a 400 here, never a redirect.
 */
export async function startFlow(
  deps: OAuthDependencies,
  providerName: string,
  { redirect_uri, code_challenge, state }: AuthorizeInput,
  linkIdentityId: number | null,
): Promise<string> {
  const { oauth, federated, logger } = deps
  if (!oauth.allowedRedirectUris.includes(redirect_uri)) {
    logger.info('provider sign-in refused', { event: 'auth.oauth_authorize', outcome: 'failure', reason: 'redirect_uri_not_allowed' })
    throw new ApiError('redirect_uri_not_allowed')
  }
  const provider = providerNamed(deps.providers, providerName)
  const checks = { state: randomSecret(), nonce: randomSecret(), codeVerifier: randomSecret() }
  let url: URL
  try {
    url = await provider.authorizationUrl(checks)
  } catch (error) {
    if (error instanceof ProviderUnavailableError) throw new ApiError('service_unavailable', { cause: error })
    throw error
  }
  await federated.openFlow(
    secretHash(checks.state),
    {
      provider: providerName,
      nonce: checks.nonce,
      codeVerifier: checks.codeVerifier,
      clientChallenge: code_challenge,
      redirectUri: redirect_uri,
      clientState: state ?? null,
      linkIdentityId,
    },
    OAUTH_FLOW_TTL_SECONDS,
  )
  return url.toString()
}

/** Counts a failed attempt against the source address (the refresh pool): a 429 once it is spent, else `refusal`. */
async function refuse(deps: OAuthDependencies, client: ClientInfo, refusal: ApiError, log: Record<string, unknown>): Promise<never> {
  const counted = await deps.throttle.count(deps.throttleKeys.address(client.sourceIp), deps.config.throttle.address)
  if (!counted.allowed) {
    deps.logger.info('provider sign-in throttled', { ...log, outcome: 'failure', reason: 'throttled', retryAfter: counted.retryAfter })
    throw tooManyAttempts(counted.retryAfter)
  }
  deps.logger.info('provider sign-in refused', { ...log, outcome: 'failure', reason: refusal.reason })
  throw refusal
}

/**
 * The provider's answer: the flow taken once, the answer checked, and the browser's way back to the client
 * (a one-time code, or an `error`). An unknown, used or expired state is a 400 (there is nowhere safe to go).
 */
export async function finishAtProvider(
  deps: OAuthDependencies,
  providerName: string,
  parameters: Record<string, string | undefined>,
  client: ClientInfo,
): Promise<string> {
  const log = { event: 'auth.oauth_callback', provider: providerName }
  const provider = providerNamed(deps.providers, providerName)
  const state = parameters['state']
  const flow = state !== undefined && SECRET.test(state) ? await deps.federated.takeFlow(secretHash(state)) : undefined
  if (!state || !flow?.live || flow.provider !== providerName) {
    return refuse(deps, client, new ApiError('oauth_state_invalid'), log)
  }
  const query = new URLSearchParams()
  for (const [name, value] of Object.entries(parameters)) if (value !== undefined) query.set(name, value)
  const outcome = await provider.complete(query, {
    state,
    nonce: flow.nonce,
    codeVerifier: flow.codeVerifier,
  })
  if (!outcome.ok) {
    // The detail names the check that failed (openid-client's message), never a token or a secret.
    deps.logger.info('provider answer refused', { ...log, outcome: 'failure', reason: outcome.failure, detail: outcome.detail })
    return backToClient(flow.redirectUri, { error: outcome.failure }, flow.clientState)
  }
  const code = randomSecret()
  await deps.federated.storeCode(
    secretHash(code),
    { ...outcome.account, provider: providerName, clientChallenge: flow.clientChallenge, linkIdentityId: flow.linkIdentityId },
    OAUTH_CODE_TTL_SECONDS,
  )
  deps.logger.info('provider sign-in proved', { ...log, outcome: 'success', link: flow.linkIdentityId !== null })
  return backToClient(flow.redirectUri, { code }, flow.clientState)
}

/** Takes the one-time code (whatever happens next, it is spent) and checks the client's verifier against it. */
export async function redeemCode(
  deps: OAuthDependencies,
  { code, code_verifier }: TokenInput,
  client: ClientInfo,
  linkIdentityId: number | null,
  event: string,
): Promise<ProvenAccount> {
  const taken = SECRET.test(code) ? await deps.federated.takeCode(secretHash(code)) : undefined
  if (!taken?.live || taken.linkIdentityId !== linkIdentityId || !pkceMatches(code_verifier, taken.clientChallenge)) {
    return refuse(deps, client, new ApiError('oauth_code_invalid'), { event })
  }
  return { provider: taken.provider, subject: taken.subject, email: taken.email, emailVerified: taken.emailVerified, name: taken.name }
}

export function createOAuthSignIn(deps: OAuthSignInDependencies) {
  const { oauth, federated, sessions, tokens, logger, challenges } = deps

  /** The identity the proven account signs in to, linking or creating as the rules say; a new one is signed in already. */
  async function identityFor(
    account: ProvenAccount,
    client: ClientInfo,
  ): Promise<{ target: SignInTarget } | { created: TokenPair; identityId: number }> {
    const linked = await federated.signIn(account)
    if (linked) return { target: linked }
    if (account.email !== null) {
      const owner = await federated.findByVerifiedEmail(account.email)
      if (owner) {
        const { autoLink, trustedProviders } = oauth
        if (autoLink === 'verified_email' && trustedProviders.has(account.provider) && account.emailVerified) {
          await federated.link(owner.identityId, randomUUID(), account, client, true)
          logger.info('provider account linked by its verified address', {
            event: 'auth.oauth_link',
            outcome: 'success',
            provider: account.provider,
            identityId: owner.identityId,
          })
          return { target: owner }
        }
        // A racing first sign-in of this same provider account may have created the owner a moment ago.
        const raced = await federated.signIn(account)
        if (raced) return { target: raced }
        // Which ways in the account has is not said: only that it exists and must link this provider itself.
        throw new ApiError('account_exists_link_required')
      }
    }
    for (let attempt = 1; ; attempt++) {
      const { session, refresh } = newSession(tokens, client)
      try {
        const { identityId, claims } = await federated.create({
          login: generatedLogin(),
          account,
          linkId: randomUUID(),
          session,
          assurance: PROVIDER_SIGN_IN,
        })
        logger.info('account created by a provider sign-in', {
          event: 'auth.oauth_token',
          outcome: 'success',
          provider: account.provider,
          identityId,
          sessionId: session.id,
        })
        return { created: await tokens.issuePair({ identityId, sessionId: session.id }, refresh, claims), identityId }
      } catch (error) {
        if (!(error instanceof AlreadyLinkedError || error instanceof IdentityConflictError)) throw error
        // A racing first sign-in of the same account created it first (its address or its link collided with
        // ours): sign in to that one.
        const winner = await federated.signIn(account)
        if (winner) return { target: winner }
        if (error instanceof IdentityConflictError && error.constraint.includes('email')) throw new ApiError('account_exists_link_required')
        if (attempt >= LOGIN_TRIES) throw error
      }
    }
  }

  return {
    authorize: (providerName: string, input: AuthorizeInput): Promise<string> => startFlow(deps, providerName, input, null),

    callback: (providerName: string, parameters: Record<string, string | undefined>, client: ClientInfo): Promise<string> =>
      finishAtProvider(deps, providerName, parameters, client),

    async token(input: TokenInput, client: ClientInfo): Promise<TokenPair | MfaRequired> {
      const event = 'auth.oauth_token'
      const account = await redeemCode(deps, input, client, null, event)
      const found = await identityFor(account, client)
      if ('created' in found) return found.created
      const { identityId, credentialsVersion, secondFactor, suspended } = found.target
      if (suspended) {
        // As a sign-in whose code is no good: no challenge, no session, nothing said of the account.
        logger.info('provider sign-in refused', { event, outcome: 'failure', reason: 'suspended', identityId })
        throw new ApiError('oauth_code_invalid')
      }
      if (secondFactor) {
        const required = await challenges.open({ identityId, credentialsVersion, firstFactor: 'fed' })
        logger.info('provider sign-in needs a second factor', { event, outcome: 'success', reason: 'mfa_required', identityId })
        return required
      }
      const { session, refresh } = newSession(tokens, client)
      const claims = await sessions.open({ ...session, identityId, credentialsVersion, assurance: PROVIDER_SIGN_IN })
      if (!claims) {
        logger.info('provider sign-in refused', { event, outcome: 'failure', reason: 'credentials_changed', identityId })
        throw new ApiError('oauth_code_invalid')
      }
      logger.info('provider sign-in succeeded', {
        event,
        outcome: 'success',
        provider: account.provider,
        identityId,
        sessionId: session.id,
      })
      return tokens.issuePair({ identityId, sessionId: session.id }, refresh, claims)
    },
  }
}
