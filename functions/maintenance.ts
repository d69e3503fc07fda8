/**
 * Scheduled maintenance (an EventBridge schedule in serverless.yml), hourly:
 * - deletes sessions that ended or expired more than SESSION_RETENTION_DAYS ago (recording `session.ended`
 *   for those that expired without being ended), and throttle counters left untouched for
 *   THROTTLE_RETENTION_HOURS, so neither table grows for ever (a credential-stuffing run over millions of
 *   logins leaves a row per login for a day only);
 * - deletes expired email tokens, and outbox rows sent (or given up) more than OUTBOX_RETENTION_DAYS (30) ago;
 * - deletes expired login challenges (mfa_token) and TOTP enrolments never activated in their 10 minutes;
 * - deletes provider sign-ins (flows, one-time codes) that expired unused;
 * - keeps the audit log's monthly partitions AUDIT_PARTITIONS_AHEAD months ahead, and drops those whose
 *   events are all older than AUDIT_RETENTION_DAYS (the only way an audit event ever leaves).
 */
import type { Context } from 'aws-lambda'
import type { Config } from '../lib/config.js'
import { getConfig, refreshSecrets } from '../lib/config.js'
import type { AuditRepository } from '../lib/db/audit.js'
import { AUDIT_PARTITIONS_AHEAD, createAuditRepository } from '../lib/db/audit.js'
import { createSql } from '../lib/db/client.js'
import { purgeExpiredSignIns } from '../lib/db/federated-identities.js'
import type { MfaRepository } from '../lib/db/mfa.js'
import { createMfaRepository, ENROLMENT_TTL_SECONDS } from '../lib/db/mfa.js'
import type { ChallengeRepository } from '../lib/db/mfa-challenges.js'
import { createChallengeRepository } from '../lib/db/mfa-challenges.js'
import type { OutboxRepository } from '../lib/db/outbox.js'
import { createOutboxRepository, OUTBOX_RETENTION_DAYS } from '../lib/db/outbox.js'
import type { RecoveryRepository } from '../lib/db/recovery.js'
import { createRecoveryRepository } from '../lib/db/recovery.js'
import type { SessionRepository } from '../lib/db/sessions.js'
import { createSessionRepository } from '../lib/db/sessions.js'
import type { ThrottleRepository } from '../lib/db/throttle.js'
import { createThrottleRepository } from '../lib/db/throttle.js'
import { configureLogging, logger } from '../lib/log.js'

export interface MaintenanceResult {
  sessionsDeleted: number
  throttleCountersDeleted: number
  auditPartitionsCreated: number
  auditPartitionsDropped: string[]
  emailTokensDeleted: number
  outboxRowsDeleted: number
  mfaChallengesDeleted: number
  mfaEnrolmentsDeleted: number
  oauthFlowsDeleted: number
}

interface Repositories {
  sessions: SessionRepository
  throttle: ThrottleRepository
  audit: AuditRepository
  recovery: RecoveryRepository
  outbox: OutboxRepository
  challenges: ChallengeRepository
  mfa: MfaRepository
  purgeExpiredSignIns: () => Promise<number>
}

let repositories: Repositories | undefined
/** The configuration the repositories were built from: a rotated secret rebuilds them. */
let builtFrom: Config | undefined

export async function handler(_event: unknown, context: Pick<Context, 'awsRequestId'>): Promise<MaintenanceResult> {
  const warning = await refreshSecrets()
  const config = getConfig()
  configureLogging(config)
  if (warning) logger.warn(warning, { event: 'config.secrets' })
  if (!repositories || builtFrom !== config) {
    builtFrom = config
    const sql = createSql(config.database)
    repositories = {
      sessions: createSessionRepository(sql, config.sessions),
      throttle: createThrottleRepository(sql),
      audit: createAuditRepository(sql),
      recovery: createRecoveryRepository(sql, config.sessions),
      outbox: createOutboxRepository(sql),
      challenges: createChallengeRepository(sql),
      mfa: createMfaRepository(sql),
      purgeExpiredSignIns: () => purgeExpiredSignIns(sql),
    }
  }
  // Partitions first: the session cleanup below writes audit events.
  const auditPartitionsCreated = await repositories.audit.preparePartitions(AUDIT_PARTITIONS_AHEAD)
  const sessionsDeleted = await repositories.sessions.purgeEnded(context.awsRequestId)
  const throttleCountersDeleted = await repositories.throttle.purgeIdle(config.throttle.retentionHours)
  const auditPartitionsDropped = await repositories.audit.dropPartitions(config.audit.retentionDays)
  const emailTokensDeleted = await repositories.recovery.purgeExpiredTokens()
  const outboxRowsDeleted = await repositories.outbox.purge(OUTBOX_RETENTION_DAYS)
  const mfaChallengesDeleted = await repositories.challenges.purgeExpired()
  const mfaEnrolmentsDeleted = await repositories.mfa.purgeAbandoned(ENROLMENT_TTL_SECONDS)
  const oauthFlowsDeleted = await repositories.purgeExpiredSignIns()
  const result = {
    sessionsDeleted,
    throttleCountersDeleted,
    auditPartitionsCreated,
    auditPartitionsDropped,
    emailTokensDeleted,
    outboxRowsDeleted,
    mfaChallengesDeleted,
    mfaEnrolmentsDeleted,
    oauthFlowsDeleted,
  }
  logger.info('maintenance done', { event: 'db.maintenance', ...result })
  return result
}
