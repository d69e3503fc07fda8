/**
 * The identity repository: the `attune.identity` table (its first columns are the original specification's). A login is kept as typed (`login`, for
 * display) with its canonical key and confusable skeleton (lib/logins/), each uniquely indexed: a taken
 * login is detected by those indexes, never by check-then-insert.
 */
import type { Origin } from '../audit/events.js'
import { USER } from '../audit/events.js'
import type { SessionPolicy } from '../config.js'
import type { EmailToken } from '../email/tokens.js'
import { PASSWORD_SIGN_IN } from '../tokens/claims.js'
import { recordEvents } from './audit.js'
import type { Fragment, Queryable, Sql } from './client.js'
import { isUniqueViolation } from './client.js'
import { liveGrants } from './grants.js'
import { queueMail } from './outbox.js'
import type { SessionOpening } from './sessions.js'
import { insertSession, recordOpened } from './sessions.js'

export interface Identity {
  id: number
  login: string
  displayName: string | null
  passwordHash: string | null
  /** Incremented by every password change; a session opens only at the version its login verified. */
  credentialsVersion: number
  /** The verified email address, if any (a pending one is only in its token row). */
  email: string | null
  /** When an administrator suspended it (lib/db/suspensions.ts), or null. */
  suspendedAt: Date | null
}

export interface NewIdentity {
  /** As typed (trimmed, NFC): shown, never compared. */
  login: string
  loginKey: string
  loginSkeleton: string
  displayName: string | null
  passwordHash: string
}

/**
 * An address given at registration, to verify: its token is stored (unless the address is another account's
 * verified email: then that address is told instead), and the mail queued, in the statement that creates the
 * identity.
 */
export interface PendingEmail {
  email: string
  token: EmailToken
  link: string
  ttlSeconds: number
}

export class LoginTakenError extends Error {
  constructor(options?: { cause?: unknown }) {
    super('login already exists', options)
    this.name = 'LoginTakenError'
  }
}

export interface IdentityRepository {
  /**
   * Inserts an identity and its first session in one statement, with their audit events (all or nothing);
   * throws LoginTakenError when an identity has the same login key or skeleton.
   */
  create(identity: NewIdentity, session: SessionOpening, pendingEmail?: PendingEmail): Promise<Identity>
  /**
   * The login key that what was typed in a login field names (POST /auth/login, the admin search): `key` (a
   * login's canonical key) when it is not an address; otherwise, in one query, the login with that key, else
   * the login whose verified email is `email`, else `key` itself (null when the text was no valid login).
   */
  accountKeyFor(typed: { key: string | null; email: string | null }): Promise<string | null>
  /** The identity whose login has this canonical key. */
  findByLogin(loginKey: string): Promise<Identity | undefined>
  findById(id: number): Promise<Identity | undefined>
  /** GET /auth/me's identity, in one query: the row, the address waiting for verification, its live roles and permissions. */
  findProfile(id: number): Promise<(Identity & { pendingEmail: string | null; roles: string[]; permissions: string[] }) | undefined>
  /**
   * Replaces the hash of the same password (new Argon2 parameters), only while the credentials are still at
   * `credentialsVersion`: a rehash never overwrites a password changed in the meantime. False otherwise.
   */
  rehashPassword(id: number, credentialsVersion: number, passwordHash: string): Promise<boolean>
}

export interface IdentityRow {
  id: string
  login: string
  display_name: string | null
  password_hash: string | null
  credentials_version: string
  email: string | null
  suspended_at: Date | null
}

export const toIdentity = (row: IdentityRow): Identity => ({
  // bigserial arrives as a string; ids stay far below 2^53 in practice, and the API promises a JSON number.
  id: Number(row.id),
  login: row.login,
  displayName: row.display_name,
  passwordHash: row.password_hash,
  credentialsVersion: Number(row.credentials_version),
  email: row.email,
  suspendedAt: row.suspended_at,
})

/** The columns an Identity is read from. */
export const IDENTITY_COLUMNS = ['id', 'login', 'display_name', 'password_hash', 'credentials_version', 'email', 'suspended_at']

/**
 * SQL: CTEs that ask the identity in CTE `who` (an `id` column) to verify `pending.email`: when no other account
 * has it as its verified email, its token (replacing an earlier pending one) and the verification mail; when
 * one does, a notice to that address instead (the caller's answer is the same). Then the audit row.
 */
export function verificationRequest(sql: Queryable, pending: PendingEmail, who: string, origin: Origin): Fragment {
  return sql`
    owner as (
      select i.id, i.email from attune.identity i
      where lower(i.email) = lower(${pending.email}::text) and i.id not in (select id from ${sql(who)})
        and exists (select 1 from ${sql(who)})
    ), verification_token as (
      insert into attune.email_token (token_hash, identity_id, purpose, email, expires)
      select ${pending.token.hash}, w.id, 'verify_email', ${pending.email}::text, now() + make_interval(secs => ${pending.ttlSeconds})
      from ${sql(who)} w
      where not exists (select 1 from owner)
      on conflict (identity_id, purpose) do update
        set token_hash = excluded.token_hash, email = excluded.email, created = now(), expires = excluded.expires
      returning identity_id
    ), verification_mail as (${queueMail(
      sql,
      {
        template: 'verify_email',
        recipient: pending.email,
        data: { link: pending.link, expires_hours: Math.round(pending.ttlSeconds / 3600) },
      },
      sql`exists (select 1 from verification_token)`,
    )}
    ), owner_notice as (${queueMail(sql, { template: 'email_in_use', recipient: sql`(select email from owner)`, data: {} }, sql`exists (select 1 from owner)`)}
    ), verification_event as (${recordEvents(
      sql,
      { type: 'email.verification_requested', outcome: 'success', actor: USER, origin },
      sql`select w.id as identity_id, null::uuid as session_id,
                 jsonb_build_object('notified_owner', exists (select 1 from owner)) as data
          from ${sql(who)} w`,
    )})`
}

export function createIdentityRepository(sql: Sql, policy: SessionPolicy): IdentityRepository {
  return {
    async create(identity, session, pendingEmail) {
      try {
        const [row] = await sql<IdentityRow[]>`
          with created as (
            insert into attune.identity (login, login_key, login_skeleton, display_name, password_hash)
            values (${identity.login}, ${identity.loginKey}, ${identity.loginSkeleton}, ${identity.displayName}, ${identity.passwordHash})
            returning ${sql(IDENTITY_COLUMNS)}
          ), opened as (${insertSession(sql, policy, { ...session, assurance: PASSWORD_SIGN_IN }, 'created')}
          ), registered as (${recordEvents(
            sql,
            { type: 'identity.registered', outcome: 'success', actor: USER, origin: session },
            sql`select id as identity_id, null::uuid as session_id, '{}'::jsonb as data from created`,
          )}
          ), opened_event as (${recordOpened(sql, session, 'registration', 'opened')}
          )${pendingEmail ? sql`, ${verificationRequest(sql, pendingEmail, 'created', session)}` : sql``}
          select ${sql(IDENTITY_COLUMNS)} from created`
        return toIdentity(row as IdentityRow)
      } catch (error) {
        if (isUniqueViolation(error)) throw new LoginTakenError({ cause: error })
        throw error
      }
    },

    async accountKeyFor({ key, email }) {
      if (email === null) return key
      const [row] = await sql<{ login_key: string | null }[]>`
        select coalesce(
          (select login_key from attune.identity where login_key = ${key}::text),
          (select login_key from attune.identity where lower(email) = lower(${email}::text))
        ) as login_key`
      return row?.login_key ?? key
    },

    async findByLogin(loginKey) {
      const [row] = await sql<IdentityRow[]>`select ${sql(IDENTITY_COLUMNS)} from attune.identity where login_key = ${loginKey}`
      return row && toIdentity(row)
    },

    async findById(id) {
      const [row] = await sql<IdentityRow[]>`select ${sql(IDENTITY_COLUMNS)} from attune.identity where id = ${id}`
      return row && toIdentity(row)
    },

    async findProfile(id) {
      const [row] = await sql<(IdentityRow & { pending_email: string | null; roles: string[]; permissions: string[] })[]>`
        with grants as (${liveGrants(sql, id)})
        select ${sql(IDENTITY_COLUMNS.map((column) => `i.${column}`))}, t.email as pending_email,
               array(select distinct role from grants order by role) as roles,
               array(select distinct permission from grants where permission is not null order by permission) as permissions
        from attune.identity i
        left join attune.email_token t on t.identity_id = i.id and t.purpose = 'verify_email' and t.expires > now()
        where i.id = ${id}`
      return row && { ...toIdentity(row), pendingEmail: row.pending_email, roles: row.roles, permissions: row.permissions }
    },

    async rehashPassword(id, credentialsVersion, passwordHash) {
      const result = await sql`
        update attune.identity
        set password_hash = ${passwordHash}, updated = now()
        where id = ${id} and credentials_version = ${credentialsVersion}`
      return result.count === 1
    },
  }
}
