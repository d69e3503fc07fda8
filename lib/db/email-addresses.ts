/**
 * An account's email address in SQL: asking to verify one (a new address, or again for the pending one), and
 * verifying it. Each is one statement with its mail and audit rows (lib/db/identities.ts `verificationRequest`
 * holds what registration shares).
 */
import type { Origin } from '../audit/events.js'
import { USER } from '../audit/events.js'
import type { WindowPolicy } from '../config.js'
import type { EmailToken } from '../email/tokens.js'
import { recordEvents } from './audit.js'
import type { Fragment, Sql } from './client.js'
import { isUniqueViolation } from './client.js'
import type { PendingEmail } from './identities.js'
import { verificationRequest } from './identities.js'
import { queueMail } from './outbox.js'
import { countAttempt } from './throttle.js'

/** The per-account limits on verification mail, with their keys. */
export interface MailLimits {
  minute: { key: Uint8Array; policy: WindowPolicy }
  hourly: { key: Uint8Array; policy: WindowPolicy }
}

export type VerifyOutcome = { outcome: 'verified'; identityId: number; email: string } | { outcome: 'invalid' } | { outcome: 'taken' }

export interface EmailAddressRepository {
  /**
   * Asks identity `identityId` to verify `pending.email` (a change of address): unless it is already the verified
   * address, within the mail limits. The current verified address, if any, is told. True when anything was queued.
   */
  requestChange(identityId: number, pending: PendingEmail, limits: MailLimits, origin: Origin): Promise<boolean>
  /** Sends the pending address a new link (the old one stops working), within the mail limits. True when queued. */
  resend(
    identityId: number,
    token: EmailToken,
    link: (token: string) => string,
    ttlSeconds: number,
    limits: MailLimits,
    origin: Origin,
  ): Promise<boolean>
  /** Consumes a verification token: its address becomes the account's email. */
  verify(tokenHash: Uint8Array, origin: Origin): Promise<VerifyOutcome>
  /** The account's pending address (waiting for verification), if any. */
  pending(identityId: number): Promise<string | undefined>
}

export function createEmailAddressRepository(sql: Sql): EmailAddressRepository {
  /** CTEs `minute`, `hourly` and `allowed`: the limits counted (by `counted`, 1 or 0) in order; `allowed` has a row when both let it through. */
  const limited = (limits: MailLimits, counted: Fragment) => sql`
    minute as (${countAttempt(sql, limits.minute.key, limits.minute.policy, counted)}),
    hourly as (${countAttempt(sql, limits.hourly.key, limits.hourly.policy, sql`select case when allowed then (${counted}) else 0 end from minute`)}),
    allowed as (select 1 where (select allowed from minute) and (select allowed from hourly))`

  return {
    async requestChange(identityId, pending, limits, origin) {
      const [row] = await sql<{ queued: boolean }[]>`
        with current as (select id, email from attune.identity where id = ${identityId}),
        ${limited(limits, sql`select case when exists (select 1 from current where lower(email) = lower(${pending.email}::text)) then 0 else 1 end`)},
        me as (
          select c.id from current c
          where exists (select 1 from allowed) and (c.email is null or lower(c.email) <> lower(${pending.email}::text))
        ),
        ${verificationRequest(sql, pending, 'me', origin)},
        old_address_notice as (${queueMail(
          sql,
          { template: 'email_change_notice', recipient: sql`(select email from current)`, data: {} },
          sql`exists (select 1 from verification_token) and (select email from current) is not null`,
        )})
        select exists (select 1 from verification_mail) or exists (select 1 from owner_notice) as queued`
      return row?.queued === true
    },

    async resend(identityId, token, link, ttlSeconds, limits, origin) {
      const [row] = await sql<{ queued: boolean }[]>`
        with pending as (
          select email from attune.email_token where identity_id = ${identityId} and purpose = 'verify_email'
        ),
        ${limited(limits, sql`select count(*)::int from pending`)},
        renewed as (
          update attune.email_token t
          set token_hash = ${token.hash}, created = now(), expires = now() + make_interval(secs => ${ttlSeconds})
          where t.identity_id = ${identityId} and t.purpose = 'verify_email' and exists (select 1 from allowed)
          returning t.identity_id, t.email
        ),
        mail as (${queueMail(
          sql,
          {
            template: 'verify_email',
            recipient: sql`(select email from renewed)`,
            data: { link: link(token.token), expires_hours: Math.round(ttlSeconds / 3600) },
          },
          sql`exists (select 1 from renewed)`,
        )}),
        event as (${recordEvents(
          sql,
          { type: 'email.verification_requested', outcome: 'success', actor: USER, origin },
          sql`select identity_id, null::uuid as session_id, jsonb_build_object('notified_owner', false) as data from renewed`,
        )})
        select exists (select 1 from mail) as queued`
      return row?.queued === true
    },

    async verify(tokenHash, origin) {
      try {
        const [row] = await sql<{ id: string; email: string }[]>`
          with consumed as (
            delete from attune.email_token
            where token_hash = ${tokenHash} and purpose = 'verify_email' and expires > now()
            returning identity_id, email
          ), verified as (
            update attune.identity i set email = c.email, updated = now()
            from consumed c where i.id = c.identity_id
            returning i.id, i.email
          ), event as (${recordEvents(
            sql,
            { type: 'email.verified', outcome: 'success', actor: USER, origin },
            sql`select id as identity_id, null::uuid as session_id, '{}'::jsonb as data from verified`,
          )})
          select id, email from verified`
        return row ? { outcome: 'verified', identityId: Number(row.id), email: row.email } : { outcome: 'invalid' }
      } catch (error) {
        // Another account verified this address first (the unique index on lower(email)): nothing was changed.
        if (isUniqueViolation(error)) return { outcome: 'taken' }
        throw error
      }
    },

    async pending(identityId) {
      const [row] = await sql<{ email: string }[]>`
        select email from attune.email_token where identity_id = ${identityId} and purpose = 'verify_email' and expires > now()`
      return row?.email
    },
  }
}
