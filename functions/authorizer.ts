/**
 * The Lambda authorizer: takes the place of the seed's `require_auth`, for our routes and other teams'
 * APIs — REST (TOKEN or REQUEST) and HTTP API (payload 1.0 or 2.0).
 */
import type { APIGatewayAuthorizerResult } from 'aws-lambda'
import type { AuthorizerDependencies, AuthorizerEvent, RestAuthorizerEvent, SimpleAuthorizerResult } from '../lib/authorizer.js'
import { decide, toAuthorizerResult } from '../lib/authorizer.js'
import { getConfig } from '../lib/config.js'
import { createSql } from '../lib/db/client.js'
import { createSessionRepository } from '../lib/db/sessions.js'
import { logger, setLogLevel } from '../lib/log.js'
import { createTokenService } from '../lib/tokens.js'

let deps: (AuthorizerDependencies & { simpleResponses: boolean }) | undefined

/** Built on the first invocation and kept: only what a decision needs (no password hashing in this bundle). */
function dependencies(): AuthorizerDependencies & { simpleResponses: boolean } {
  if (!deps) {
    const config = getConfig()
    setLogLevel(config.logLevel)
    deps = {
      tokens: createTokenService(config.jwt),
      sessions: createSessionRepository(createSql(config.database)),
      simpleResponses: config.authorizerSimpleResponses,
    }
  }
  return deps
}

export function handler(event: RestAuthorizerEvent): Promise<APIGatewayAuthorizerResult>
export function handler(event: AuthorizerEvent): Promise<APIGatewayAuthorizerResult | SimpleAuthorizerResult>
export async function handler(event: AuthorizerEvent): Promise<APIGatewayAuthorizerResult | SimpleAuthorizerResult> {
  const { simpleResponses, ...decisionDeps } = dependencies()
  const decision = await decide(event, decisionDeps)
  if (decision.effect === 'Allow') logger.debug('access allowed', { event: 'auth.authorize', outcome: 'success', identityId: decision.identityId })
  else logger.info('access denied', { event: 'auth.authorize', outcome: 'failure', reason: decision.error })
  return toAuthorizerResult(decision, event, { simpleResponses })
}
