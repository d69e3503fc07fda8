/**
 * What only the functions that send mail need, built on the app (lib/app.ts) by those functions alone, so the
 * others' bundles carry none of it: the outbox, the recovery statements, and the mailer's kick.
 */
import type { App } from '../app.js'
import type { OutboxRepository } from '../db/outbox.js'
import { createOutboxRepository } from '../db/outbox.js'
import type { RecoveryRepository } from '../db/recovery.js'
import { createRecoveryRepository } from '../db/recovery.js'
import type { MailKick } from './kick.js'
import { createMailKick } from './kick.js'

export interface MailParts {
  outbox: OutboxRepository
  recovery: RecoveryRepository
  /** Starts the mailer after a commit that queued mail. */
  mailKick: MailKick
}

export function mailParts(app: App): App & MailParts {
  return {
    ...app,
    outbox: createOutboxRepository(app.sql),
    recovery: createRecoveryRepository(app.sql, app.config.sessions),
    mailKick: createMailKick(app.config.email, app.logger),
  }
}
