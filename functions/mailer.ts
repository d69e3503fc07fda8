/**
 * The mailer (serverless.yml): every minute on a schedule, and invoked asynchronously right after a request
 * queued mail (lib/email/kick.ts). Sends the due outbox rows through SES (lib/email/mailer.ts).
 */
import type { App } from '../lib/app.js'
import { getApp } from '../lib/app.js'
import { refreshSecrets } from '../lib/config.js'
import type { DeliveryReport } from '../lib/db/outbox.js'
import { createOutboxRepository } from '../lib/db/outbox.js'
import { createMailer, sesSender } from '../lib/email/mailer.js'

/** Mails one invocation sends at most (a minute's schedule catches up with the rest). */
export const MAILS_PER_INVOCATION = 50

let mailer: { app: App; value: ReturnType<typeof createMailer> } | undefined

export async function handler(): Promise<DeliveryReport> {
  const warning = await refreshSecrets()
  const app = getApp()
  if (warning) app.logger.warn(warning, { event: 'config.secrets' })
  if (mailer?.app !== app) {
    const value = createMailer({
      config: app.config.email,
      outbox: createOutboxRepository(app.sql),
      send: sesSender(app.config.email),
      logger: app.logger,
    })
    mailer = { app, value }
  }
  const report = await mailer.value.deliver(MAILS_PER_INVOCATION)
  if (report.sent + report.failed > 0) app.logger.info('mailer done', { event: 'mail.deliver', ...report })
  return report
}
