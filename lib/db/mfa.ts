/**
 * Two-factor authentication's rows (infra/migrations/00014_mfa.sql): TOTP factors and recovery codes (the login
 * challenges are lib/db/mfa-challenges.ts). Every acceptance is one guarded statement, so two requests racing with the same code, recovery
 * code or challenge can never both succeed.
 */
import type { Origin } from '../audit/events.js'
import { USER } from '../audit/events.js'
import { recordEvent, recordEvents } from './audit.js'
import type { Sql } from './client.js'
import { queueMail } from './outbox.js'

/** Seconds an enrolment waits for its first code. */
export const ENROLMENT_TTL_SECONDS = 600

export interface SealedFactor {
  id: string
  sealed: string
  lastUsedStep: number
}

export interface StoredRecoveryCode {
  id: number
  hint: string
  hash: string
}

/** A factor as its owner sees it listed: never its secret. */
export interface FactorSummary {
  id: string
  kind: 'totp'
  status: 'pending' | 'active'
  created: Date
  activated: Date | null
}

export interface MfaRepository {
  /** Stores a pending factor, replacing the identity's other pending ones. */
  createPending(identityId: number, factorId: string, sealed: string): Promise<void>
  /** The identity's pending factor `factorId`, if created less than `maxAgeSeconds` ago. */
  pending(identityId: number, factorId: string, maxAgeSeconds: number): Promise<SealedFactor | undefined>
  /**
   * Activates the pending factor at time step `step` (so that code is spent) and replaces the identity's recovery
   * codes, with its audit event; false when it is no longer pending, the step was spent, or another is active.
   */
  activate(identityId: number, factorId: string, step: number, codes: StoredRecoveryCode[], origin: Origin): Promise<boolean>
  /** The identity's active TOTP factor. */
  active(identityId: number): Promise<SealedFactor | undefined>
  /** The identity's factors, active and pending (an enrolment younger than `pendingMaxAgeSeconds`), oldest first. */
  list(identityId: number, pendingMaxAgeSeconds: number): Promise<FactorSummary[]>
  /** Deletes enrolments never activated within `maxAgeSeconds` (the maintenance function); answers how many. */
  purgeAbandoned(maxAgeSeconds: number): Promise<number>
  /** Removes the identity's active factor `factorId` and its recovery codes, audited; false when there is none. */
  remove(identityId: number, factorId: string, origin: Origin): Promise<boolean>
  /** Replaces the identity's recovery codes, audited; false when it has no active factor (none are stored then). */
  replaceRecoveryCodes(identityId: number, codes: StoredRecoveryCode[], origin: Origin): Promise<boolean>
  /** Spends time step `step` of the active factor: false when it (or a later one) was accepted before. */
  spendStep(factorId: string, step: number): Promise<boolean>
  /** The unused recovery codes of the identity whose hint is `hint`. */
  recoveryCandidates(identityId: number, hint: string): Promise<StoredRecoveryCode[]>
  /**
   * Marks the recovery code used, with its audit event and a notice to the account's verified address (if it has
   * one), in the same statement; false when it was used already (a racing request).
   */
  spendRecoveryCode(identityId: number, id: number, origin: Origin): Promise<boolean>
  recoveryCodesLeft(identityId: number): Promise<number>
}

interface FactorRow {
  id: string
  secret_sealed: string
  last_used_step: string
}

const toFactor = (row: FactorRow | undefined): SealedFactor | undefined =>
  row && { id: row.id, sealed: row.secret_sealed, lastUsedStep: Number(row.last_used_step) }

export function createMfaRepository(sql: Sql): MfaRepository {
  return {
    async createPending(identityId, factorId, sealed) {
      await sql`
        with dropped as (delete from attune.mfa_factor where identity_id = ${identityId} and status = 'pending')
        insert into attune.mfa_factor (id, identity_id, kind, secret_sealed, status)
        values (${factorId}, ${identityId}, 'totp', ${sealed}, 'pending')`
    },

    async pending(identityId, factorId, maxAgeSeconds) {
      const [row] = await sql<FactorRow[]>`
        select id, secret_sealed, last_used_step from attune.mfa_factor
        where id = ${factorId} and identity_id = ${identityId} and status = 'pending'
          and created > now() - make_interval(secs => ${maxAgeSeconds})`
      return toFactor(row)
    },

    async activate(identityId, factorId, step, codes, origin) {
      return sql.begin(async (tx) => {
        const [activated] = await tx<{ id: string }[]>`
          update attune.mfa_factor set status = 'active', activated = now(), last_used_step = ${step}
          where id = ${factorId} and identity_id = ${identityId} and status = 'pending' and last_used_step < ${step}
            and not exists (select 1 from attune.mfa_factor a where a.identity_id = ${identityId} and a.status = 'active')
          returning id`
        if (!activated) return false
        await tx`delete from attune.mfa_recovery_code where identity_id = ${identityId}`
        await tx`
          insert into attune.mfa_recovery_code (identity_id, id, hint, code_hash)
          select ${identityId}, c.id, c.hint, c.hash from jsonb_to_recordset(${tx.json(codes as never)}::jsonb) as c (id smallint, hint text, hash text)`
        await tx`${recordEvent(tx, { type: 'mfa.enabled', outcome: 'success', actor: USER, origin, identityId, sessionId: null, data: { factor_id: factorId, kind: 'totp' } })}`
        return true
      })
    },

    async active(identityId) {
      const [row] = await sql<FactorRow[]>`
        select id, secret_sealed, last_used_step from attune.mfa_factor where identity_id = ${identityId} and status = 'active'`
      return toFactor(row)
    },

    async list(identityId, pendingMaxAgeSeconds) {
      return sql<FactorSummary[]>`
        select id, kind, status, created, activated from attune.mfa_factor
        where identity_id = ${identityId} and (status = 'active' or created > now() - make_interval(secs => ${pendingMaxAgeSeconds}))
        order by created, id`
    },

    async purgeAbandoned(maxAgeSeconds) {
      const result = await sql`
        delete from attune.mfa_factor where status = 'pending' and created < now() - make_interval(secs => ${maxAgeSeconds})`
      return result.count
    },

    async remove(identityId, factorId, origin) {
      return sql.begin(async (tx) => {
        const [removed] = await tx<{ id: string }[]>`
          delete from attune.mfa_factor where id = ${factorId} and identity_id = ${identityId} and status = 'active' returning id`
        if (!removed) return false
        await tx`delete from attune.mfa_recovery_code where identity_id = ${identityId}`
        await tx`${recordEvent(tx, { type: 'mfa.disabled', outcome: 'success', actor: USER, origin, identityId, sessionId: null, data: { factor_id: factorId } })}`
        return true
      })
    },

    async replaceRecoveryCodes(identityId, codes, origin) {
      return sql.begin(async (tx) => {
        const [factor] = await tx`
          select 1 from attune.mfa_factor where identity_id = ${identityId} and status = 'active' for share`
        if (!factor) return false
        await tx`delete from attune.mfa_recovery_code where identity_id = ${identityId}`
        await tx`
          insert into attune.mfa_recovery_code (identity_id, id, hint, code_hash)
          select ${identityId}, c.id, c.hint, c.hash from jsonb_to_recordset(${tx.json(codes as never)}::jsonb) as c (id smallint, hint text, hash text)`
        await tx`${recordEvent(tx, { type: 'mfa.recovery_codes_regenerated', outcome: 'success', actor: USER, origin, identityId, sessionId: null })}`
        return true
      })
    },

    async spendStep(factorId, step) {
      const rows = await sql`
        update attune.mfa_factor set last_used_step = ${step}
        where id = ${factorId} and status = 'active' and last_used_step < ${step} returning id`
      return rows.length === 1
    },

    async recoveryCandidates(identityId, hint) {
      return sql<StoredRecoveryCode[]>`
        select id, hint, code_hash as hash from attune.mfa_recovery_code
        where identity_id = ${identityId} and hint = ${hint} and used is null order by id`
    },

    async spendRecoveryCode(identityId, id, origin) {
      const [row] = await sql<{ left: number }[]>`
        with spent as (
          update attune.mfa_recovery_code set used = now() where identity_id = ${identityId} and id = ${id} and used is null
          returning identity_id
        ), event as (${recordEvents(
          sql,
          { type: 'mfa.recovery_code_used', outcome: 'success', actor: USER, origin },
          sql`select identity_id, null::uuid as session_id, jsonb_build_object('code', ${id}::int) as data from spent`,
        )}), owner as (
          select email from attune.identity where id = ${identityId} and email is not null
        ), notice as (${queueMail(
          sql,
          { template: 'recovery_code_used', recipient: sql`(select email from owner)`, data: {} },
          sql`exists (select 1 from spent) and exists (select 1 from owner)`,
        )})
        select count(*)::int as left from spent`
      return row?.left === 1
    },

    async recoveryCodesLeft(identityId) {
      const [row] = await sql<{ left: number }[]>`
        select count(*)::int as left from attune.mfa_recovery_code where identity_id = ${identityId} and used is null`
      return row?.left ?? 0
    },
  }
}
