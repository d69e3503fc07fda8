/** Lambda authorizer for API Gateway REST APIs: takes the place of the seed's `require_auth`. */
import type { APIGatewayAuthorizerResult } from 'aws-lambda'
import type { AuthorizerEvent } from '../lib/authorizer.js'
import { decide, toPolicy } from '../lib/authorizer.js'
import { getConfig } from '../lib/config.js'
import { logger, setLogLevel } from '../lib/log.js'
import type { TokenService } from '../lib/tokens.js'
import { createTokenService } from '../lib/tokens.js'

let tokens: TokenService | undefined

export async function handler(event: AuthorizerEvent): Promise<APIGatewayAuthorizerResult> {
  if (!tokens) {
    const config = getConfig()
    setLogLevel(config.logLevel)
    tokens = createTokenService(config.jwt)
  }
  const decision = await decide(event, tokens)
  if (decision.effect === 'Allow') logger.debug('access allowed', { event: 'auth.authorize', outcome: 'success', identityId: decision.identityId })
  else logger.info('access denied', { event: 'auth.authorize', outcome: 'failure', reason: decision.error })
  return toPolicy(decision, event.methodArn)
}
