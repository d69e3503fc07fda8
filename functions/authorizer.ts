/** Lambda authorizer for API Gateway REST APIs: takes the place of the seed's `require_auth`. */
import type { APIGatewayAuthorizerResult } from 'aws-lambda'
import type { AuthorizerDependencies, AuthorizerEvent } from '../lib/authorizer.js'
import { decide, toPolicy } from '../lib/authorizer.js'
import { getConfig } from '../lib/config.js'
import { createSql } from '../lib/db/client.js'
import { createSessionRepository } from '../lib/db/sessions.js'
import { logger, setLogLevel } from '../lib/log.js'
import { createTokenService } from '../lib/tokens.js'

let deps: AuthorizerDependencies | undefined

/** Built on the first invocation and kept: only what a decision needs (no password hashing in this bundle). */
function dependencies(): AuthorizerDependencies {
  if (!deps) {
    const config = getConfig()
    setLogLevel(config.logLevel)
    deps = { tokens: createTokenService(config.jwt), sessions: createSessionRepository(createSql(config.database)) }
  }
  return deps
}

export async function handler(event: AuthorizerEvent): Promise<APIGatewayAuthorizerResult> {
  const decision = await decide(event, dependencies())
  if (decision.effect === 'Allow') logger.debug('access allowed', { event: 'auth.authorize', outcome: 'success', identityId: decision.identityId })
  else logger.info('access denied', { event: 'auth.authorize', outcome: 'failure', reason: decision.error })
  return toPolicy(decision, event.methodArn)
}
