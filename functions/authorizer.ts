/**
 * The Lambda authorizer: takes the place of a `require_auth` middleware, for our routes and other teams'
 * APIs — REST (TOKEN or REQUEST) and HTTP API (payload 1.0 or 2.0).
 */
import type { APIGatewayAuthorizerResult, Context } from 'aws-lambda'
import type { AuthorizerDependencies, AuthorizerEvent, RestAuthorizerEvent, SimpleAuthorizerResult } from '../lib/authorizer/decision.js'
import { decide, requestOf, toAuthorizerResult } from '../lib/authorizer/decision.js'
import { createGrantsCache } from '../lib/authz/grants.js'
import { getConfig } from '../lib/config.js'
import { createSql } from '../lib/db/client.js'
import { createGrantsReader } from '../lib/db/grants.js'
import { createSessionLookup } from '../lib/db/session-lookup.js'
import { configureLogging, logger } from '../lib/log.js'
import { createTokenService } from '../lib/tokens/service.js'

let deps: (AuthorizerDependencies & { simpleResponses: boolean }) | undefined

/** Built on the first invocation and kept: only what a decision needs (no password hashing in this bundle). */
function dependencies(): AuthorizerDependencies & { simpleResponses: boolean } {
  if (!deps) {
    const config = getConfig()
    configureLogging(config)
    const sql = createSql(config.database)
    deps = {
      tokens: createTokenService(config.jwt),
      sessions: createSessionLookup(sql, config.sessions),
      grants: createGrantsCache(createGrantsReader(sql)),
      simpleResponses: config.authorizerSimpleResponses,
    }
  }
  return deps
}

export function handler(event: RestAuthorizerEvent, context?: Context): Promise<APIGatewayAuthorizerResult>
export function handler(event: AuthorizerEvent, context?: Context): Promise<APIGatewayAuthorizerResult | SimpleAuthorizerResult>
export async function handler(event: AuthorizerEvent, context?: Context): Promise<APIGatewayAuthorizerResult | SimpleAuthorizerResult> {
  const { simpleResponses, ...decisionDeps } = dependencies()
  if (context) logger.addContext(context)
  logger.appendKeys(requestOf(event))
  try {
    const decision = await decide(event, decisionDeps)
    if (decision.effect === 'Allow')
      logger.info('access allowed', { event: 'auth.authorize', outcome: 'success', identityId: decision.identityId })
    else logger.info('access denied', { event: 'auth.authorize', outcome: 'failure', reason: decision.reason })
    return toAuthorizerResult(decision, event, { simpleResponses })
  } finally {
    logger.resetKeys()
  }
}
