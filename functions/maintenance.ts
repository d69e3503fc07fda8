/**
 * Scheduled maintenance (an EventBridge schedule in serverless.yml): deletes sessions that ended or
 * expired more than SESSION_RETENTION_DAYS ago, so `attune.session` stays bounded.
 */
import { getConfig } from '../lib/config.js'
import { createSql } from '../lib/db/client.js'
import type { SessionRepository } from '../lib/db/sessions.js'
import { createSessionRepository } from '../lib/db/sessions.js'
import { configureLogging, logger } from '../lib/log.js'

export interface MaintenanceResult {
  sessionsDeleted: number
}

let sessions: SessionRepository | undefined

export async function handler(): Promise<MaintenanceResult> {
  const config = getConfig()
  configureLogging(config)
  sessions ??= createSessionRepository(createSql(config.database), config.sessions)
  const sessionsDeleted = await sessions.purgeEnded()
  logger.info('maintenance done', { event: 'db.maintenance', sessionsDeleted, retentionDays: config.sessions.retentionDays })
  return { sessionsDeleted }
}
