/**
 * Scheduled maintenance (an EventBridge schedule in serverless.yml): deletes sessions that ended or
 * expired more than SESSION_RETENTION_DAYS ago, and throttle counters left untouched for
 * THROTTLE_RETENTION_HOURS, so neither table grows for ever (a credential-stuffing run over millions of
 * logins leaves a row per login for a day only).
 */
import { getConfig } from '../lib/config.js'
import { createSql } from '../lib/db/client.js'
import type { SessionRepository } from '../lib/db/sessions.js'
import { createSessionRepository } from '../lib/db/sessions.js'
import type { ThrottleRepository } from '../lib/db/throttle.js'
import { createThrottleRepository } from '../lib/db/throttle.js'
import { configureLogging, logger } from '../lib/log.js'

export interface MaintenanceResult {
  sessionsDeleted: number
  throttleCountersDeleted: number
}

interface Repositories {
  sessions: SessionRepository
  throttle: ThrottleRepository
}

let repositories: Repositories | undefined

export async function handler(): Promise<MaintenanceResult> {
  const config = getConfig()
  configureLogging(config)
  if (!repositories) {
    const sql = createSql(config.database)
    repositories = { sessions: createSessionRepository(sql, config.sessions), throttle: createThrottleRepository(sql) }
  }
  const sessionsDeleted = await repositories.sessions.purgeEnded()
  const throttleCountersDeleted = await repositories.throttle.purgeIdle(config.throttle.retentionHours)
  logger.info('maintenance done', { event: 'db.maintenance', sessionsDeleted, throttleCountersDeleted })
  return { sessionsDeleted, throttleCountersDeleted }
}
