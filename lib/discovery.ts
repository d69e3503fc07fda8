/**
 * Discovery documents for verifiers that hold no secret of ours: the JWK Set of our public signing keys
 * and a minimal OpenID Provider configuration (`issuer`, `jwks_uri`), which is what API Gateway's
 * built-in JWT authorizers read. Only meaningful with JWT_ALGORITHM=ES256 or RS256.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda'
import type { Config } from './config.js'

export const JWKS_PATH = '/.well-known/jwks.json'

export interface OpenIdConfiguration {
  issuer: string
  jwks_uri: string
  id_token_signing_alg_values_supported: string[]
  token_endpoint: string
  response_types_supported: string[]
  subject_types_supported: string[]
}

/**
 * Where this API is reached: JWT_ISSUER when it is an https URL (it must be, for API Gateway's JWT
 * authorizer, which fetches `<issuer>/.well-known/openid-configuration`), else the request's host and stage.
 */
export function baseUrl(config: Config, event: APIGatewayProxyEvent): string {
  if (/^https?:\/\//.test(config.jwt.issuer)) return config.jwt.issuer.replace(/\/+$/, '')
  const host = event.headers?.['host'] ?? event.requestContext?.domainName ?? 'localhost'
  const proto = event.headers?.['x-forwarded-proto'] ?? 'https'
  const stagePrefix = event.requestContext?.path?.endsWith(event.path) ? event.requestContext.path.slice(0, -event.path.length) : ''
  return `${proto}://${host}${stagePrefix}`
}

export function openIdConfiguration(config: Config, event: APIGatewayProxyEvent): OpenIdConfiguration {
  const base = baseUrl(config, event)
  return {
    issuer: config.jwt.issuer,
    jwks_uri: `${base}${JWKS_PATH}`,
    id_token_signing_alg_values_supported: [config.jwt.asymmetric?.algorithm ?? 'HS256'],
    token_endpoint: `${base}/auth/login`,
    response_types_supported: ['token'],
    subject_types_supported: ['public'],
  }
}
