/**
 * The sign-in providers' configuration (README "Sign in with OpenID Connect"), read by lib/config.ts's
 * loadOAuthConfig from the environment: `OAUTH_PROVIDERS=google,okta` and, per provider `<P>` (its name in capitals, `-` as
 * `_`), `OAUTH_<P>_ISSUER`, `OAUTH_<P>_CLIENT_ID`, `OAUTH_<P>_CLIENT_SECRET` (from the secret store),
 * `OAUTH_<P>_SCOPES` and `OAUTH_<P>_TYPE` (`oidc`, or `github` for GitHub's OAuth 2 without OpenID Connect).
 * Outside stage `local` it fails closed: https issuers and callback, and redirect URIs a browser can be
 * trusted to deliver to (https, a loopback address, or a native app's reverse-domain scheme, RFC 8252).
 */

export const OAUTH_PROVIDER_KINDS = ['oidc', 'github'] as const
export type OAuthProviderKind = (typeof OAUTH_PROVIDER_KINDS)[number]

export const AUTO_LINK_MODES = ['off', 'verified_email'] as const
export type AutoLinkMode = (typeof AUTO_LINK_MODES)[number]

/** Seconds a sign-in may stay at the provider (the `state` row). */
export const OAUTH_FLOW_TTL_SECONDS = 600
/** Seconds the one-time code the client redeems lives. */
export const OAUTH_CODE_TTL_SECONDS = 60

/** A provider's name: lower-case letters, digits and `-`, at most 32 (it names variables, parameters and routes). */
export const PROVIDER_NAME = /^[a-z][a-z0-9-]{0,31}$/

/** The prefix of a provider's variables: `OAUTH_<NAME>_`, its name in capitals with `-` as `_`. */
export const providerVariablePrefix = (name: string): string => `OAUTH_${name.toUpperCase().replace(/-/g, '_')}_`
const DEFAULT_SCOPES: Record<OAuthProviderKind, string> = { oidc: 'openid email profile', github: 'read:user user:email' }
const GITHUB = { issuer: 'https://github.com', apiUrl: 'https://api.github.com' } as const

export interface OAuthProviderSettings {
  name: string
  kind: OAuthProviderKind
  /** OpenID Connect: the issuer, whose discovery document names the endpoints. GitHub: its web origin. */
  issuer: string
  /** GitHub only: the REST API's origin (`https://api.github.com`, or a GitHub Enterprise Server's). */
  apiUrl: string | undefined
  clientId: string
  clientSecret: string
  scopes: string
}

export interface OAuthConfig {
  providers: ReadonlyMap<string, OAuthProviderSettings>
  /** OAUTH_ALLOWED_REDIRECT_URIS: where a sign-in may return to, compared exactly (no prefix, no letter case). */
  allowedRedirectUris: readonly string[]
  /** OAUTH_AUTO_LINK: `verified_email` links a trusted provider's verified address to the account verified with it. */
  autoLink: AutoLinkMode
  /** OAUTH_TRUSTED_PROVIDERS: the providers whose verified addresses may link automatically. */
  trustedProviders: ReadonlySet<string>
  /** OAUTH_PUBLIC_URL: this API's public URL; each provider's callback is `<it>/auth/oauth/<provider>/callback`. */
  publicUrl: string
}

/** What stage `local` uses when OAUTH_PUBLIC_URL is unset: npm start's address. */
export const DEVELOPMENT_PUBLIC_URL = 'http://localhost:8080'

export const callbackUrl = (config: OAuthConfig, provider: string): string => `${config.publicUrl}/auth/oauth/${provider}/callback`

const list = (text: string | undefined): string[] =>
  (text ?? '')
    .split(/[\s,]+/)
    .map((item) => item.trim())
    .filter((item) => item !== '')

const parseUrl = (text: string): URL | undefined => {
  try {
    return new URL(text)
  } catch {
    return undefined
  }
}

const LOOPBACK: readonly string[] = ['127.0.0.1', '[::1]', 'localhost']

/**
 * https, or http to this machine's loopback: a provider there (the tests', npm start's) can only be the
 * operator's own, and from Lambda it is unreachable, never a plain-text hop across a network.
 */
const secureOrLoopback = (url: URL): boolean => url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.includes(url.hostname))

/** Why `uri` cannot be a redirect URI outside stage `local`, or undefined when it can. */
function redirectUriProblem(uri: string, production: boolean): string | undefined {
  const url = parseUrl(uri)
  if (!url) return 'is not an absolute URL'
  if (url.hash !== '' || uri.includes('#')) return 'must not have a fragment'
  if (!production) return undefined
  if (secureOrLoopback(url)) return undefined
  if (url.protocol === 'http:') return 'must be https (or http on a loopback address)'
  // RFC 8252 §7.1: a native app's private-use scheme is a reverse domain name it controls.
  return /^[a-z][a-z0-9+.-]*\.[a-z0-9+.-]+:$/.test(url.protocol)
    ? undefined
    : 'must be https, loopback http, or a reverse-domain app scheme'
}

export function readOAuthConfig(env: Readonly<Record<string, string | undefined>>, production: boolean, problems: string[]): OAuthConfig {
  const value = (name: string): string | undefined => {
    const text = env[name]?.trim()
    return text ? text : undefined
  }
  const providers = new Map<string, OAuthProviderSettings>()
  for (const name of list(value('OAUTH_PROVIDERS'))) {
    if (!PROVIDER_NAME.test(name)) {
      problems.push(`OAUTH_PROVIDERS: "${name}" is not a provider name (lower-case letters, digits and -, at most 32)`)
      continue
    }
    const prefix = providerVariablePrefix(name)
    const kindText = value(`${prefix}TYPE`) ?? (name === 'github' ? 'github' : 'oidc')
    if (!(OAUTH_PROVIDER_KINDS as readonly string[]).includes(kindText)) {
      problems.push(`${prefix}TYPE must be one of ${OAUTH_PROVIDER_KINDS.join(', ')}`)
      continue
    }
    const kind = kindText as OAuthProviderKind
    const issuer = value(`${prefix}ISSUER`) ?? (kind === 'github' ? GITHUB.issuer : undefined)
    const clientId = value(`${prefix}CLIENT_ID`)
    const clientSecret = value(`${prefix}CLIENT_SECRET`)
    if (!issuer) problems.push(`${prefix}ISSUER is required (the provider's issuer URL) for provider "${name}"`)
    else if (!parseUrl(issuer)) problems.push(`${prefix}ISSUER must be a URL`)
    else if (production && !secureOrLoopback(new URL(issuer))) problems.push(`${prefix}ISSUER must be an https URL`)
    if (!clientId) problems.push(`${prefix}CLIENT_ID is required for provider "${name}"`)
    // Never the value: only that it is missing.
    if (!clientSecret) problems.push(`${prefix}CLIENT_SECRET is required for provider "${name}" (keep it in the secret store)`)
    const apiUrl = kind === 'github' ? (value(`${prefix}API_URL`) ?? GITHUB.apiUrl) : undefined
    const api = apiUrl === undefined ? undefined : parseUrl(apiUrl)
    if (apiUrl !== undefined && (!api || (production && !secureOrLoopback(api)))) problems.push(`${prefix}API_URL must be an https URL`)
    providers.set(name, {
      name,
      kind,
      issuer: (issuer ?? '').replace(/\/+$/, ''),
      apiUrl: apiUrl?.replace(/\/+$/, ''),
      clientId: clientId ?? '',
      clientSecret: clientSecret ?? '',
      scopes: value(`${prefix}SCOPES`) ?? DEFAULT_SCOPES[kind],
    })
  }

  const allowedRedirectUris = list(value('OAUTH_ALLOWED_REDIRECT_URIS'))
  for (const uri of allowedRedirectUris) {
    const problem = redirectUriProblem(uri, production)
    if (problem) problems.push(`OAUTH_ALLOWED_REDIRECT_URIS: "${uri}" ${problem}`)
  }
  if (providers.size > 0 && allowedRedirectUris.length === 0) {
    problems.push('OAUTH_ALLOWED_REDIRECT_URIS is required with OAUTH_PROVIDERS (your clients’ pages a sign-in returns to)')
  }

  const autoLinkText = value('OAUTH_AUTO_LINK') ?? 'off'
  if (!(AUTO_LINK_MODES as readonly string[]).includes(autoLinkText))
    problems.push(`OAUTH_AUTO_LINK must be one of ${AUTO_LINK_MODES.join(', ')}`)
  const trustedProviders = new Set(list(value('OAUTH_TRUSTED_PROVIDERS')))
  for (const name of trustedProviders) {
    if (!providers.has(name)) problems.push(`OAUTH_TRUSTED_PROVIDERS: "${name}" is not in OAUTH_PROVIDERS`)
  }

  const publicUrlText = value('OAUTH_PUBLIC_URL')
  let publicUrl = DEVELOPMENT_PUBLIC_URL
  if (publicUrlText) {
    const url = parseUrl(publicUrlText)
    if (url?.search !== '' || url.hash !== '') problems.push('OAUTH_PUBLIC_URL must be a URL without query or fragment')
    else if (production && url.protocol !== 'https:') problems.push('OAUTH_PUBLIC_URL must be an https URL')
    publicUrl = publicUrlText.replace(/\/+$/, '')
  } else if (production && providers.size > 0) {
    problems.push("OAUTH_PUBLIC_URL is required with OAUTH_PROVIDERS (this API's public URL, e.g. https://auth.example.com)")
  }

  return {
    providers,
    allowedRedirectUris,
    autoLink: autoLinkText as AutoLinkMode,
    trustedProviders,
    publicUrl,
  }
}
