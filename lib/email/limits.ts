/**
 * The per-source-address limit shared by the email and recovery routes (forgot counts it inside its own
 * statement; reset, verify, resend and email change count it here): a 429 past EMAIL_REQUESTS_PER_ADDRESS.
 */
import type { Config } from '../config.js'
import type { ThrottleRepository } from '../db/throttle.js'
import type { ClientInfo } from '../http/client.js'
import type { Logger } from '../log.js'
import type { ThrottleKeys } from '../throttle/keys.js'
import { tooManyAttempts } from '../throttle/refusals.js'

export interface EmailRequestLimitDependencies {
  config: Pick<Config, 'throttle'>
  throttle: ThrottleRepository
  throttleKeys: ThrottleKeys
  logger: Logger
}

/** Counts the request against its source address; throws the 429 past the limit. `event`: the route's log event. */
export async function countEmailRequest(deps: EmailRequestLimitDependencies, client: ClientInfo, event: string): Promise<void> {
  const counted = await deps.throttle.count(deps.throttleKeys.emailRequests(client.sourceIp), deps.config.throttle.emailRequests)
  if (!counted.allowed) {
    deps.logger.info('email request throttled', { event, outcome: 'failure', reason: 'throttled' })
    throw tooManyAttempts(counted.retryAfter)
  }
}
