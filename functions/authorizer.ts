/**
 * The Lambda authorizer: takes the place of a `require_auth` middleware, for our routes and other teams'
 * APIs — REST (TOKEN or REQUEST) and HTTP API (payload 1.0 or 2.0).
 */
import type { APIGatewayAuthorizerResult, Context } from 'aws-lambda'
import { createDecisionCaches } from '../lib/authorizer/caches.js'
import type { AuthorizerDependencies, AuthorizerEvent, RestAuthorizerEvent, SimpleAuthorizerResult } from '../lib/authorizer/decision.js'
import { decide, permitsRoute, requestOf, routeArnOf, toAuthorizerResult } from '../lib/authorizer/decision.js'
import { parseExecuteApiArn } from '../lib/authz/route-requirements.js'
import type { AuthorizerConfig } from '../lib/config.js'
import { getAuthorizerConfig, refreshSecrets } from '../lib/config.js'
import { createSql } from '../lib/db/client.js'
import { createSessionLookup } from '../lib/db/session-lookup.js'
import { configureLogging, logger } from '../lib/log.js'
import { createTokenService } from '../lib/tokens/service.js'

let deps: (AuthorizerDependencies & { simpleResponses: boolean }) | undefined
/** The configuration `deps` were built from: a rotated secret rebuilds them (and closes the old pool). */
let builtFrom: { config: AuthorizerConfig; end: () => Promise<void> } | undefined

/** Built on the first invocation and kept: only what a decision needs (no password hashing in this bundle). */
function dependencies(): AuthorizerDependencies & { simpleResponses: boolean } {
  const config = getAuthorizerConfig()
  if (!deps || builtFrom?.config !== config) {
    configureLogging(config)
    const sql = createSql(config.database)
    void builtFrom?.end().catch(() => {})
    builtFrom = { config, end: () => sql.end({ timeout: 5 }) }
    deps = {
      tokens: createTokenService(config.jwt),
      sessions: createSessionLookup(sql, config.sessions),
      ...createDecisionCaches(sql, config),
      simpleResponses: config.authorizerSimpleResponses,
    }
  }
  return deps
}

export function handler(event: RestAuthorizerEvent, context?: Context): Promise<APIGatewayAuthorizerResult>
export function handler(event: AuthorizerEvent, context?: Context): Promise<APIGatewayAuthorizerResult | SimpleAuthorizerResult>
export async function handler(event: AuthorizerEvent, context?: Context): Promise<APIGatewayAuthorizerResult | SimpleAuthorizerResult> {
  // A first read of the secrets that fails throws: API Gateway answers AUTHORIZER_CONFIGURATION_ERROR (503).
  const warning = await refreshSecrets()
  const { simpleResponses, ...decisionDeps } = dependencies()
  if (warning) logger.warn(warning, { event: 'config.secrets' })
  if (context) logger.addContext(context)
  logger.appendKeys(requestOf(event))
  try {
    const decision = await decide(event, decisionDeps)
    if (decision.effect === 'Deny') logger.info('access denied', { event: 'auth.authorize', outcome: 'failure', reason: decision.reason })
    else {
      const { identityId, routes } = decision
      const { apiId, route } = parseExecuteApiArn(routeArnOf(event)) ?? {}
      if (permitsRoute(decision)) logger.info('access allowed', { event: 'auth.authorize', outcome: 'success', identityId })
      else
        logger.info('access denied', {
          event: 'auth.authorize',
          outcome: 'failure',
          // This route's refusal: a missing permission, or a sign-in too weak or too old.
          reason: routes.refusal?.reason,
          identityId,
          apiId,
          route,
          missing: routes.missing.enforce,
          ...(routes.signIn.enforce ? { signInNeeded: routes.signIn.enforce } : {}),
        })
      // Report mode: what enforcing would refuse, for the team to read before it switches.
      if (routes.missing.report.length > 0 || routes.signIn.report)
        logger.info('would_deny', {
          event: 'auth.would_deny',
          outcome: 'success',
          identityId,
          apiId,
          route,
          missing: routes.missing.report,
          ...(routes.signIn.report ? { signInNeeded: routes.signIn.report } : {}),
        })
    }
    return toAuthorizerResult(decision, event, { simpleResponses })
  } finally {
    logger.resetKeys()
  }
}
