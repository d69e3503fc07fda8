/**
 * Discovery documents for verifiers that hold no secret of ours: the JWK Set of our public signing keys
 * and a minimal OpenID Provider configuration (`issuer`, `jwks_uri`), which is what API Gateway's
 * built-in JWT authorizers read. Only meaningful with JWT_ALGORITHM=ES256 or RS256.
 *
 * The document is publicly cacheable, so its URLs never come from what a client sent (`Host`,
 * `X-Forwarded-Proto`): they are built from JWT_ISSUER when it is an https URL (API Gateway's JWT authorizer
 * fetches `<issuer>/.well-known/openid-configuration`, so it must be one), or, on stage `local` only, from an
 * http(s) JWT_ISSUER (`npm start` sets `http://localhost:<port>`). Otherwise there is no document.
 */
import { ApiError } from '@attune-auth/client/errors'
import type { JWK } from 'jose'
import type { PublicConfig } from '../config.js'
import { publicEntry } from './keyring.js'

export const JWKS_PATH = '/.well-known/jwks.json'

export interface OpenIdConfiguration {
  issuer: string
  jwks_uri: string
  id_token_signing_alg_values_supported: string[]
  token_endpoint: string
  response_types_supported: string[]
  subject_types_supported: string[]
}

type DiscoveryConfig = { production: boolean; jwt: Pick<PublicConfig['jwt'], 'issuer' | 'algorithm'> }

/** Where this API is reached, from configuration only; undefined when the issuer is not a URL we may publish. */
export function baseUrl(config: DiscoveryConfig): string | undefined {
  const issuer = config.jwt.issuer
  const allowed = config.production ? /^https:\/\/[^/?#\s]+(\/[^?#\s]*)?$/ : /^https?:\/\/[^/?#\s]+(\/[^?#\s]*)?$/
  return allowed.test(issuer) ? issuer.replace(/\/+$/, '') : undefined
}

export function openIdConfiguration(config: DiscoveryConfig): OpenIdConfiguration {
  const base = baseUrl(config)
  if (base === undefined) {
    throw new ApiError('discovery_not_configured')
  }
  return {
    issuer: config.jwt.issuer,
    jwks_uri: `${base}${JWKS_PATH}`,
    id_token_signing_alg_values_supported: [config.jwt.algorithm],
    token_endpoint: `${base}/auth/login`,
    response_types_supported: ['token'],
    subject_types_supported: ['public'],
  }
}

/**
 * The JWK Set (RFC 7517) of the public keys that verify our tokens: the current one and, until the rotation
 * overlap ends, the previous one. Empty with HS256, whose key is secret. Built from public keys only.
 */
export async function publicJwks(jwt: PublicConfig['jwt'], now: number = Date.now()): Promise<{ keys: JWK[] }> {
  const { algorithm, publicKey, previousPublicKey, previousUntil } = jwt
  if (algorithm === 'HS256' || !publicKey) return { keys: [] }
  const entries = [await publicEntry(publicKey, algorithm, Number.POSITIVE_INFINITY)]
  if (previousPublicKey && now < (previousUntil ?? 0)) entries.push(await publicEntry(previousPublicKey, algorithm, previousUntil ?? 0))
  return { keys: entries.flatMap((entry) => (entry.jwk ? [entry.jwk] : [])) }
}
