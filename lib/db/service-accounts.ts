/**
 * Service accounts and their API keys, as administrators change them (npm run admin): every change is one
 * transaction with its audit event. The authorizer reads keys through lib/db/api-key-lookup.ts alone.
 */
import { recordEvent } from './audit.js'
import type { Sql } from './client.js'
import { liveGrants } from './grants.js'
import type { ChangeAuthor } from './roles.js'

export interface ServiceAccount {
  id: number
  name: string
}

export interface NewApiKey {
  id: string
  name: string
  hash: Buffer
  display: string
  scopes: string[]
  expiresAt: Date
}

/** A key as listings show it: never the key, never its hash. */
export interface ApiKeySummary {
  id: string
  name: string
  display: string
  scopes: string[]
  created: Date
  expiresAt: Date
  lastUsed: Date | null
  revokedAt: Date | null
  replacedBy: string | null
}

export type KeyCreation = { outcome: 'created' } | { outcome: 'no_account' } | { outcome: 'scopes_not_held'; scopes: string[] }

export interface ServiceAccountRepository {
  /** Creates the service account `name` (login `service:<name>`); undefined when the login exists. */
  create(name: string, author: ChangeAuthor): Promise<ServiceAccount | undefined>
  find(name: string): Promise<ServiceAccount | undefined>
  /** The service account `id` (undefined for an unknown id, or a user's). */
  byId(id: number): Promise<ServiceAccount | undefined>
  /** Stores the key if its scopes are all permissions the account holds now. */
  createKey(accountId: number, key: NewApiKey, author: ChangeAuthor): Promise<KeyCreation>
  listKeys(accountId: number): Promise<ApiKeySummary[]>
  /** Revokes the key now; false when it is not a live key of that account. */
  revokeKey(accountId: number, keyId: string, author: ChangeAuthor): Promise<boolean>
  /**
   * Stores `successor` in place of key `keyId`, with its name, scopes and lifetime (from now); the old key keeps
   * working `overlapHours` more (or until its own expiry, if sooner). Answers the successor's expiry; undefined
   * when `keyId` is not a live, unrotated key of that account.
   */
  rotateKey(
    accountId: number,
    keyId: string,
    successor: Omit<NewApiKey, 'name' | 'scopes' | 'expiresAt'>,
    overlapHours: number,
    author: ChangeAuthor,
  ): Promise<Date | undefined>
}

export const serviceLogin = (name: string): string => `service:${name}`

export function createServiceAccountRepository(sql: Sql): ServiceAccountRepository {
  return {
    async create(name, { actor, origin }) {
      return sql.begin(async (tx) => {
        const login = serviceLogin(name)
        const [row] = await tx<{ id: string }[]>`
          insert into attune.identity (login, login_key, login_skeleton, kind) values (${login}, ${login}, ${login}, 'service')
          on conflict do nothing returning id`
        if (!row) return undefined
        const id = Number(row.id)
        await tx`${recordEvent(tx, { type: 'service_account.created', outcome: 'success', actor, origin, identityId: id, sessionId: null, data: { name } })}`
        return { id, name }
      })
    },

    async find(name) {
      const [row] = await sql<{ id: string }[]>`select id from attune.identity where login_key = ${serviceLogin(name)} and kind = 'service'`
      return row && { id: Number(row.id), name }
    },

    async byId(id) {
      const [row] = await sql<{ login: string }[]>`select login from attune.identity where id = ${id} and kind = 'service'`
      return row && { id, name: row.login.slice('service:'.length) }
    },

    async createKey(accountId, key, { actor, origin }) {
      return sql.begin(async (tx) => {
        const [account] = await tx`select 1 from attune.identity where id = ${accountId} and kind = 'service' for share`
        if (!account) return { outcome: 'no_account' as const }
        const held = await tx<{ permission: string | null }[]>`select permission from (${liveGrants(tx, accountId)}) g`
        const notHeld = key.scopes.filter((scope) => !held.some((g) => g.permission === scope))
        if (notHeld.length > 0) return { outcome: 'scopes_not_held' as const, scopes: notHeld }
        await tx`
          insert into attune.api_key (id, identity_id, name, key_hash, display, scopes, expires_at, created_by)
          values (${key.id}, ${accountId}, ${key.name}, ${key.hash}, ${key.display}, ${key.scopes}, ${key.expiresAt}, ${'id' in actor ? `${actor.type}:${actor.id}` : actor.type})`
        const data = { key_id: key.id, name: key.name, scopes: key.scopes.join(' '), expires_at: key.expiresAt.toISOString() }
        await tx`${recordEvent(tx, { type: 'api_key.created', outcome: 'success', actor, origin, identityId: accountId, sessionId: null, data })}`
        return { outcome: 'created' as const }
      })
    },

    async listKeys(accountId) {
      const rows = await sql<
        {
          id: string
          name: string
          display: string
          scopes: string[]
          created: Date
          expires_at: Date
          last_used: Date | null
          revoked_at: Date | null
          replaced_by: string | null
        }[]
      >`
        select id, name, display, scopes, created, expires_at, last_used, revoked_at, replaced_by
        from attune.api_key where identity_id = ${accountId} order by created, id`
      return rows.map((r) => ({
        id: r.id,
        name: r.name,
        display: r.display,
        scopes: r.scopes,
        created: r.created,
        expiresAt: r.expires_at,
        lastUsed: r.last_used,
        revokedAt: r.revoked_at,
        replacedBy: r.replaced_by,
      }))
    },

    async revokeKey(accountId, keyId, { actor, origin }) {
      return sql.begin(async (tx) => {
        const [row] = await tx`
          update attune.api_key set revoked_at = now()
          where id = ${keyId} and identity_id = ${accountId} and revoked_at is null and expires_at > now() returning id`
        if (!row) return false
        await tx`${recordEvent(tx, { type: 'api_key.revoked', outcome: 'success', actor, origin, identityId: accountId, sessionId: null, data: { key_id: keyId } })}`
        return true
      })
    },

    async rotateKey(accountId, keyId, successor, overlapHours, { actor, origin }) {
      return sql.begin(async (tx) => {
        const [old] = await tx<{ name: string; scopes: string[]; lifetime: string }[]>`
          select name, scopes, (expires_at - created)::text as lifetime from attune.api_key
          where id = ${keyId} and identity_id = ${accountId} and revoked_at is null and expires_at > now() and replaced_by is null
          for update`
        if (!old) return undefined
        const [added] = await tx<{ expires_at: Date }[]>`
          insert into attune.api_key (id, identity_id, name, key_hash, display, scopes, expires_at)
          values (${successor.id}, ${accountId}, ${old.name}, ${successor.hash}, ${successor.display}, ${old.scopes}, now() + ${old.lifetime}::interval)
          returning expires_at`
        await tx`
          update attune.api_key set expires_at = least(expires_at, now() + make_interval(hours => ${overlapHours})), replaced_by = ${successor.id}
          where id = ${keyId}`
        const data = { key_id: keyId, successor_id: successor.id, overlap_hours: overlapHours }
        await tx`${recordEvent(tx, { type: 'api_key.rotated', outcome: 'success', actor, origin, identityId: accountId, sessionId: null, data })}`
        return added?.expires_at
      })
    },
  }
}
