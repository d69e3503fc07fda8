/**
 * The outbox, `attune.outbox`: mail is queued by `queueMail`, a SQL fragment put into the statement or
 * transaction that makes the change it tells of (so a mail is queued exactly when the change commits), and
 * delivered by the mailer function (lib/email/mailer.ts): each row in its own transaction, locked with
 * FOR UPDATE SKIP LOCKED (two mailers never take the same row), sent, then marked sent with `data.link` (the
 * only place a token lives) erased. A failed send is retried after a growing wait, at most MAX_ATTEMPTS times.
 */
import type { MailData, MailTemplateName } from '../email/templates/index.js'
import type { Fragment, Queryable, Sql } from './client.js'

/** Days a sent (or given-up) mail's row is kept, as a record of what was sent to whom, before maintenance deletes it. */
export const OUTBOX_RETENTION_DAYS = 30

/** Sends after which a mail is given up (its link, which expires long before, is erased). */
export const MAX_ATTEMPTS = 8

/** Seconds before retry `attempts` (1, 2, ...): 30 s, doubling, at most an hour. */
export const retryDelay = (attempts: number): number => Math.min(30 * 2 ** (attempts - 1), 3600)

/** A mail to queue: its template, the address, and the template's data. */
export interface Mail<T extends MailTemplateName = MailTemplateName> {
  template: T
  recipient: string
  data: MailData<T>
}

/**
 * SQL: queue `mail` when `when` holds (a condition over the statement's CTEs; always by default). `recipient` may
 * be a fragment (an address read in the same statement).
 */
export function queueMail<T extends MailTemplateName>(
  sql: Queryable,
  mail: { template: T; recipient: string | Fragment; data: MailData<T> },
  when: Fragment = sql`true`,
): Fragment {
  const recipient = typeof mail.recipient === 'string' ? sql`${mail.recipient}::text` : mail.recipient
  return sql`
    insert into attune.outbox (template, recipient, data)
    select ${mail.template}::text, ${recipient}, ${sql.json(mail.data as Parameters<Queryable['json']>[0])}::jsonb
    where ${when}
    returning id`
}

/** A queued mail as the mailer reads it. */
export interface QueuedMail {
  id: number
  template: MailTemplateName
  recipient: string
  data: Record<string, unknown>
  attempts: number
}

export interface DeliveryReport {
  sent: number
  failed: number
}

export interface OutboxRepository {
  /**
   * Delivers due mail, one row at a time until none is due or `limit` were tried: `send` answers the provider's
   * message id, or throws (the row waits `retryDelay` and is tried again).
   */
  deliver(send: (mail: QueuedMail) => Promise<string>, limit: number): Promise<DeliveryReport>
  /** Deletes rows sent, or given up, more than `days` ago; answers how many. */
  purge(days: number): Promise<number>
}

interface Row {
  id: string
  template: MailTemplateName
  recipient: string
  data: Record<string, unknown>
  attempts: number
}

/** Short and free of anything the provider echoed from the mail: the error's name and code only. */
function describeFailure(error: unknown): string {
  const e = error as { name?: unknown; code?: unknown; Code?: unknown; $metadata?: { httpStatusCode?: unknown } }
  const parts = [e?.name, e?.code ?? e?.Code, e?.$metadata?.httpStatusCode].filter((part) => part !== undefined && part !== null)
  return parts.map(String).join(' ').slice(0, 200) || 'send failed'
}

export function createOutboxRepository(sql: Sql): OutboxRepository {
  return {
    async deliver(send, limit) {
      const report: DeliveryReport = { sent: 0, failed: 0 }
      for (let tried = 0; tried < limit; tried++) {
        const outcome = await sql.begin(async (tx) => {
          const [row] = await tx<Row[]>`
            select id, template, recipient, data, attempts from attune.outbox
            where sent is null and next_attempt <= now() and attempts < ${MAX_ATTEMPTS}
            order by id
            limit 1
            for update skip locked`
          if (!row) return 'none' as const
          const mail: QueuedMail = { ...row, id: Number(row.id) }
          let messageId: string
          try {
            messageId = await send(mail)
          } catch (error) {
            const attempts = row.attempts + 1
            await tx`
              update attune.outbox
              set attempts = ${attempts}, last_error = ${describeFailure(error)},
                  next_attempt = now() + make_interval(secs => ${retryDelay(attempts)}),
                  data = case when ${attempts} >= ${MAX_ATTEMPTS} then data - 'link' else data end
              where id = ${row.id}`
            return 'failed' as const
          }
          await tx`
            update attune.outbox
            set sent = now(), message_id = ${messageId}, attempts = attempts + 1, last_error = null, data = data - 'link'
            where id = ${row.id}`
          return 'sent' as const
        })
        if (outcome === 'none') break
        report[outcome] += 1
      }
      return report
    },

    async purge(days) {
      const result = await sql`
        delete from attune.outbox
        where created < now() - make_interval(days => ${days}) and (sent is not null or attempts >= ${MAX_ATTEMPTS})`
      return result.count
    },
  }
}
