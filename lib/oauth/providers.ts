/**
 * The sign-in providers, through `openid-client` (panva's certified relying party: discovery, PKCE, state,
 * nonce, the ID token's signature from the provider's JWKS, its issuer, audience and times, and RFC 9207's
 * `iss` in the authorization response against mix-up). An OpenID Connect provider is found by discovery (once
 * per container, again after a failure); GitHub (OAuth 2 without OpenID Connect) goes through the same
 * interface, its user read from its REST API. Provider tokens are used for the exchange and never kept.
 */
import * as client from 'openid-client'
import type { OAuthConfig, OAuthProviderSettings } from './settings.js'
import { callbackUrl } from './settings.js'

/** What a provider said about the account that signed in, after every check passed. */
export interface ProviderAccount {
  /** The provider's stable id of the account (`sub`; GitHub's numeric user id). */
  subject: string
  email: string | null
  /** Whether the provider says it verified `email` (false when it says nothing). */
  emailVerified: boolean
  name: string | null
}

/** What our flow row remembers for the provider: the checks its answer must pass. */
export interface ProviderChecks {
  state: string
  nonce: string
  codeVerifier: string
}

/** Why a provider's answer gave no account: the user or provider refused, or the provider could not be reached. */
export type ProviderFailure = 'access_denied' | 'temporarily_unavailable'

export type ProviderOutcome = { ok: true; account: ProviderAccount } | { ok: false; failure: ProviderFailure; detail: string }

export interface Provider {
  readonly name: string
  /** The provider's authorization URL for this sign-in (throws when the provider cannot be discovered). */
  authorizationUrl(checks: ProviderChecks): Promise<URL>
  /** The callback's parameters checked, the code exchanged and the account read. Never throws. */
  complete(parameters: URLSearchParams, checks: ProviderChecks): Promise<ProviderOutcome>
}

/** Thrown when a provider's discovery document cannot be read: the route answers 503. */
export class ProviderUnavailableError extends Error {
  constructor(provider: string, options?: { cause?: unknown }) {
    super(`sign-in provider "${provider}" is unavailable`, options)
    this.name = 'ProviderUnavailableError'
  }
}

/** Seconds a call to a provider may take (the functions' timeout is 10 s). */
const PROVIDER_TIMEOUT_SECONDS = 4

interface GitHubEmail {
  email: string
  primary: boolean
  verified: boolean
}

function refused(error: unknown): ProviderOutcome {
  if (error instanceof client.AuthorizationResponseError) {
    return { ok: false, failure: 'access_denied', detail: `provider answered ${error.error}` }
  }
  if (error instanceof client.ResponseBodyError) {
    return { ok: false, failure: 'access_denied', detail: `provider refused the code: ${error.error}` }
  }
  if (error instanceof client.ClientError)
    return { ok: false, failure: 'access_denied', detail: `${error.code ?? 'check'}: ${error.message}` }
  return { ok: false, failure: 'temporarily_unavailable', detail: error instanceof Error ? error.message : 'unknown failure' }
}

const CONTROL = /[\p{Cc}\p{Cs}]/u

/** A display value from a provider, fit to store: a string without control characters, at most `max` long. */
const text = (value: unknown, max = 256): string | null =>
  typeof value === 'string' && value !== '' && value.length <= max && !CONTROL.test(value) ? value : null

/** OpenID Connect Core §2: `sub` is at most 255 ASCII characters; anything else is refused, never stored. */
const subjectOf = (value: unknown): string | null => (typeof value === 'string' && /^[\x21-\x7e]{1,255}$/.test(value) ? value : null)

/** The account, or a refusal when the provider's subject is not one we can key an account by. */
function accountOf(subject: unknown, email: string | null, emailVerified: boolean, name: string | null): ProviderOutcome {
  const sub = subjectOf(subject)
  if (!sub) return { ok: false, failure: 'access_denied', detail: 'the provider’s subject is not 1-255 printable ASCII characters' }
  return { ok: true, account: { subject: sub, email, emailVerified: email !== null && emailVerified, name } }
}

export function createProvider(settings: OAuthProviderSettings, oauth: OAuthConfig): Provider {
  const redirectUri = callbackUrl(oauth, settings.name)
  let configuration: Promise<client.Configuration> | undefined

  async function discover(): Promise<client.Configuration> {
    // Plain http only reaches a loopback provider (lib/oauth/settings.ts refuses any other outside stage `local`).
    const insecure = new URL(settings.issuer).protocol === 'http:'
    const options = { timeout: PROVIDER_TIMEOUT_SECONDS, ...(insecure ? { execute: [client.allowInsecureRequests] } : {}) }
    if (settings.kind === 'github') {
      const github = new client.Configuration(
        {
          issuer: settings.issuer,
          authorization_endpoint: `${settings.issuer}/login/oauth/authorize`,
          token_endpoint: `${settings.issuer}/login/oauth/access_token`,
        },
        settings.clientId,
        settings.clientSecret,
      )
      github.timeout = PROVIDER_TIMEOUT_SECONDS
      if (insecure) client.allowInsecureRequests(github)
      return github
    }
    return client.discovery(new URL(settings.issuer), settings.clientId, settings.clientSecret, undefined, options)
  }

  function config(): Promise<client.Configuration> {
    configuration ??= discover().catch((error: unknown) => {
      configuration = undefined
      throw new ProviderUnavailableError(settings.name, { cause: error })
    })
    return configuration
  }

  async function githubAccount(configuration: client.Configuration, accessToken: string): Promise<ProviderOutcome> {
    const get = async <T>(path: string): Promise<T> => {
      const response = await client.fetchProtectedResource(configuration, accessToken, new URL(`${settings.apiUrl}${path}`), 'GET')
      if (!response.ok) throw new Error(`GitHub answered ${response.status} for ${path}`)
      return (await response.json()) as T
    }
    const user = await get<{ id: number; name?: string | null; login?: string }>('/user')
    const emails = await get<GitHubEmail[]>('/user/emails')
    const primary = emails.find((email) => email.primary && email.verified)
    return accountOf(String(user.id), text(primary?.email, 320), primary !== undefined, text(user.name))
  }

  return {
    name: settings.name,

    async authorizationUrl({ state, nonce, codeVerifier }) {
      const parameters: Record<string, string> = {
        redirect_uri: redirectUri,
        scope: settings.scopes,
        state,
        code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
        code_challenge_method: 'S256',
      }
      if (settings.kind === 'oidc') parameters['nonce'] = nonce
      return client.buildAuthorizationUrl(await config(), parameters)
    },

    async complete(parameters, { state, nonce, codeVerifier }) {
      let configuration: client.Configuration
      try {
        configuration = await config()
      } catch (error) {
        return refused(error instanceof ProviderUnavailableError ? error.cause : error)
      }
      // The URL the provider sent the browser to, rebuilt from our configured callback (never from a Host header).
      const current = new URL(redirectUri)
      current.search = parameters.toString()
      try {
        if (settings.kind === 'github') {
          const tokens = await client.authorizationCodeGrant(configuration, current, {
            pkceCodeVerifier: codeVerifier,
            expectedState: state,
          })
          return await githubAccount(configuration, tokens.access_token)
        }
        const tokens = await client.authorizationCodeGrant(configuration, current, {
          pkceCodeVerifier: codeVerifier,
          expectedState: state,
          expectedNonce: nonce,
          idTokenExpected: true,
        })
        const claims = tokens.claims()
        if (!claims) return { ok: false, failure: 'access_denied', detail: 'no ID token' }
        return accountOf(claims.sub, text(claims['email'], 320), claims['email_verified'] === true, text(claims['name']))
      } catch (error) {
        return refused(error)
      }
    },
  }
}

/** The configured providers by name, each discovered on first use. */
export function createProviders(oauth: OAuthConfig): ReadonlyMap<string, Provider> {
  return new Map([...oauth.providers.values()].map((settings) => [settings.name, createProvider(settings, oauth)]))
}
