/**
 * Provider sign-ins in PostgreSQL (infra/migrations/00017_oauth.sql): the flows under way at a provider and
 * the one-time codes their callbacks issue (each taken once, by `delete ... returning`, whether or not it is
 * still live: a second use finds nothing), and the provider accounts linked to identities.
 */
import type { Origin } from '../audit/events.js'
import { USER } from '../audit/events.js'
import type { SessionPolicy } from '../config.js'
import type { Assurance, IssuedClaims } from '../tokens/claims.js'
import { recordEvents } from './audit.js'
import type { Sql } from './client.js'
import { isUniqueViolation } from './client.js'
import type { SessionOpening } from './sessions.js'
import { insertSession, recordOpened } from './sessions.js'

/** A sign-in (or a link) under way at a provider. */
export interface OAuthFlow {
  provider: string
  nonce: string
  /** Our PKCE verifier for the provider. */
  codeVerifier: string
  /** The client's PKCE S256 challenge, which its one-time code will be bound to. */
  clientChallenge: string
  redirectUri: string
  /** The client's own `state`, handed back with the code. */
  clientState: string | null
  /** A link flow: the identity that asked. */
  linkIdentityId: number | null
}

/** What a provider proved about an account, with every check passed. */
export interface ProvenAccount {
  provider: string
  subject: string
  email: string | null
  emailVerified: boolean
  name: string | null
}

/** A callback's result, waiting for the client's PKCE verifier. */
export interface OAuthCode extends ProvenAccount {
  clientChallenge: string
  linkIdentityId: number | null
}

/** What was taken: the row, and whether it was still live when taken. */
export type Taken<T> = T & { live: boolean }

/** An identity a provider account signs in to: the credentials version a session must open at. */
export interface SignInTarget {
  identityId: number
  credentialsVersion: number
  /** It has an active second factor: the sign-in answers mfa_required. */
  secondFactor: boolean
  /** An administrator suspended it: no sign-in finishes. */
  suspended: boolean
}

type TargetRow = { identity_id: string; credentials_version: string; second_factor: boolean; suspended: boolean }
const toTarget = (row: TargetRow): SignInTarget => ({
  identityId: Number(row.identity_id),
  credentialsVersion: Number(row.credentials_version),
  secondFactor: row.second_factor,
  suspended: row.suspended,
})

export interface LinkedIdentity {
  id: string
  provider: string
  email: string | null
  created: Date
  lastUsed: Date | null
}

/** The provider account is linked already (to this identity or another), or this identity has that provider. */
export class AlreadyLinkedError extends Error {
  constructor(options?: { cause?: unknown }) {
    super('provider account already linked', options)
    this.name = 'AlreadyLinkedError'
  }
}

/** A new identity's login or address is taken (a registration raced this sign-in). */
export class IdentityConflictError extends Error {
  readonly constraint: string
  constructor(constraint: string, options?: { cause?: unknown }) {
    super('new identity conflicts with an existing one', options)
    this.name = 'IdentityConflictError'
    this.constraint = constraint
  }
}

export interface NewFederatedIdentity {
  /** A generated login (lib/oauth/accounts.ts), its key and skeleton equal to it. */
  login: string
  account: ProvenAccount
  linkId: string
  session: SessionOpening
  assurance: Pick<Assurance, 'acr' | 'amr'>
}

export interface FederatedIdentityRepository {
  openFlow(stateHash: Uint8Array, flow: OAuthFlow, ttlSeconds: number): Promise<void>
  takeFlow(stateHash: Uint8Array): Promise<Taken<OAuthFlow> | undefined>
  storeCode(codeHash: Uint8Array, code: OAuthCode, ttlSeconds: number): Promise<void>
  takeCode(codeHash: Uint8Array): Promise<Taken<OAuthCode> | undefined>
  /** The identity this provider account is linked to, its link's last use and address updated; undefined when unlinked. */
  signIn(account: ProvenAccount): Promise<SignInTarget | undefined>
  /** The identity whose verified address is `email` (any letter case). */
  findByVerifiedEmail(email: string): Promise<SignInTarget | undefined>
  /**
   * A new identity (no password; the provider's address when it is verified), its link and its first session,
   * with `identity.registered` and `session.created`, in one statement. Throws IdentityConflictError.
   */
  create(identity: NewFederatedIdentity): Promise<{ identityId: number; claims: IssuedClaims }>
  /** Links the account to the identity, with `identity.linked`; throws AlreadyLinkedError. */
  link(identityId: number, linkId: string, account: ProvenAccount, origin: Origin, automatic: boolean): Promise<LinkedIdentity>
  /** The identity's linked accounts, and whether it has a password. */
  list(identityId: number): Promise<{ linked: LinkedIdentity[]; hasPassword: boolean }>
  /** Unlinks one, unless it is the identity's last way in (no password, no other link). */
  unlink(identityId: number, linkId: string, origin: Origin): Promise<'unlinked' | 'not_found' | 'last_way_in'>
}

interface FlowRow {
  provider: string
  nonce: string
  code_verifier: string
  client_challenge: string
  redirect_uri: string
  client_state: string | null
  link_identity_id: string | null
  live: boolean
}

interface CodeRow {
  provider: string
  subject: string
  email: string | null
  email_verified: boolean
  name: string | null
  client_challenge: string
  link_identity_id: string | null
  live: boolean
}

interface LinkRow {
  id: string
  provider: string
  email: string | null
  created: Date
  last_used: Date | null
}

const toLinked = (row: LinkRow): LinkedIdentity => ({
  id: row.id,
  provider: row.provider,
  email: row.email,
  created: row.created,
  lastUsed: row.last_used,
})

/** SQL: whether the identity aliased `alias` has an active second factor, as `second_factor`. */
const secondFactor = (sql: Sql, alias: string) =>
  sql`exists (select 1 from attune.mfa_factor m where m.identity_id = ${sql(alias)}.id and m.status = 'active') as second_factor`

const optionalId = (id: string | null): number | null => (id === null ? null : Number(id))

/** The address kept on a link: the provider's, when it says it verified it. */
const linkEmail = (account: ProvenAccount): string | null => (account.emailVerified ? account.email : null)

export function createFederatedIdentityRepository(sql: Sql, policy: SessionPolicy): FederatedIdentityRepository {
  return {
    async openFlow(stateHash, flow, ttlSeconds) {
      await sql`
        insert into attune.oauth_flow (state_hash, provider, nonce, code_verifier, client_challenge, redirect_uri, client_state, link_identity_id, expires)
        values (${Buffer.from(stateHash)}, ${flow.provider}, ${flow.nonce}, ${flow.codeVerifier}, ${flow.clientChallenge}, ${flow.redirectUri},
                ${flow.clientState}, ${flow.linkIdentityId}, now() + make_interval(secs => ${ttlSeconds}))`
    },

    async takeFlow(stateHash) {
      const [row] = await sql<FlowRow[]>`
        delete from attune.oauth_flow where state_hash = ${Buffer.from(stateHash)}
        returning provider, nonce, code_verifier, client_challenge, redirect_uri, client_state, link_identity_id, expires > now() as live`
      return (
        row && {
          provider: row.provider,
          nonce: row.nonce,
          codeVerifier: row.code_verifier,
          clientChallenge: row.client_challenge,
          redirectUri: row.redirect_uri,
          clientState: row.client_state,
          linkIdentityId: optionalId(row.link_identity_id),
          live: row.live,
        }
      )
    },

    async storeCode(codeHash, code, ttlSeconds) {
      await sql`
        insert into attune.oauth_code (code_hash, provider, subject, email, email_verified, name, client_challenge, link_identity_id, expires)
        values (${Buffer.from(codeHash)}, ${code.provider}, ${code.subject}, ${code.email}, ${code.emailVerified}, ${code.name},
                ${code.clientChallenge}, ${code.linkIdentityId}, now() + make_interval(secs => ${ttlSeconds}))`
    },

    async takeCode(codeHash) {
      const [row] = await sql<CodeRow[]>`
        delete from attune.oauth_code where code_hash = ${Buffer.from(codeHash)}
        returning provider, subject, email, email_verified, name, client_challenge, link_identity_id, expires > now() as live`
      return (
        row && {
          provider: row.provider,
          subject: row.subject,
          email: row.email,
          emailVerified: row.email_verified,
          name: row.name,
          clientChallenge: row.client_challenge,
          linkIdentityId: optionalId(row.link_identity_id),
          live: row.live,
        }
      )
    },

    async signIn(account) {
      const [row] = await sql<TargetRow[]>`
        with link as (
          update attune.federated_identity f set last_used = now(), email = coalesce(${linkEmail(account)}, f.email)
          where f.provider = ${account.provider} and f.subject = ${account.subject}
          returning f.identity_id
        )
        select i.id as identity_id, i.credentials_version, ${secondFactor(sql, 'i')}, i.suspended_at is not null as suspended
        from link join attune.identity i on i.id = link.identity_id`
      return row && toTarget(row)
    },

    async findByVerifiedEmail(email) {
      const [row] = await sql<TargetRow[]>`
        select i.id as identity_id, i.credentials_version, ${secondFactor(sql, 'i')}, i.suspended_at is not null as suspended
        from attune.identity i where lower(i.email) = lower(${email}::text) and i.kind = 'user'`
      return row && toTarget(row)
    },

    async create({ login, account, linkId, session, assurance }) {
      try {
        const [row] = await sql<{ id: string; auth_time: string }[]>`
          with created as (
            insert into attune.identity (login, login_key, login_skeleton, display_name, password_hash, email)
            values (${login}, ${login}, ${login}, ${account.name}, null, ${linkEmail(account)})
            returning id
          ), linked as (
            insert into attune.federated_identity (id, identity_id, provider, subject, email, last_used)
            select ${linkId}, id, ${account.provider}, ${account.subject}, ${linkEmail(account)}, now() from created
          ), opened as (${insertSession(sql, policy, { ...session, assurance }, 'created')}
          ), registered as (${recordEvents(
            sql,
            { type: 'identity.registered', outcome: 'success', actor: USER, origin: session },
            sql`select id as identity_id, null::uuid as session_id, jsonb_build_object('provider', ${account.provider}::text) as data from created`,
          )}
          ), opened_event as (${recordOpened(sql, session, 'provider', 'opened')}
          )
          select c.id, o.auth_time from created c, opened o`
        if (!row) throw new Error('the new identity was not created')
        return {
          identityId: Number(row.id),
          claims: { permissions: [], authzVersion: 0, ...assurance, authTime: Number(row.auth_time) },
        }
      } catch (error) {
        if (isUniqueViolation(error)) {
          const constraint = (error as { constraint_name?: string }).constraint_name ?? ''
          if (constraint.startsWith('federated_identity')) throw new AlreadyLinkedError({ cause: error })
          throw new IdentityConflictError(constraint, { cause: error })
        }
        throw error
      }
    },

    async link(identityId, linkId, account, origin, automatic) {
      try {
        const [row] = await sql<LinkRow[]>`
          with linked as (
            insert into attune.federated_identity (id, identity_id, provider, subject, email, last_used)
            values (${linkId}, ${identityId}, ${account.provider}, ${account.subject}, ${linkEmail(account)}, ${automatic ? sql`now()` : null})
            returning id, identity_id, provider, email, created, last_used
          ), recorded as (${recordEvents(
            sql,
            { type: 'identity.linked', outcome: 'success', actor: USER, origin },
            sql`select identity_id, null::uuid as session_id,
                       jsonb_build_object('provider', provider, 'linked_id', id, 'automatic', ${automatic}::boolean) as data
                from linked`,
          )})
          select id, provider, email, created, last_used from linked`
        if (!row) throw new Error('the link was not created')
        return toLinked(row)
      } catch (error) {
        if (isUniqueViolation(error)) throw new AlreadyLinkedError({ cause: error })
        throw error
      }
    },

    async list(identityId) {
      const [row] = await sql<{ linked: LinkRow[] | null; has_password: boolean }[]>`
        select (select password_hash is not null from attune.identity where id = ${identityId}) as has_password,
               (select json_agg(json_build_object('id', id, 'provider', provider, 'email', email, 'created', created, 'last_used', last_used)
                                order by created, id)
                from attune.federated_identity where identity_id = ${identityId}) as linked`
      const linked = (row?.linked ?? []).map((link) => ({
        ...link,
        created: new Date(link.created),
        last_used: link.last_used === null ? null : new Date(link.last_used),
      }))
      return { linked: linked.map(toLinked), hasPassword: row?.has_password === true }
    },

    async unlink(identityId, linkId, origin) {
      // The identity row is locked first, in a statement of its own: under READ COMMITTED the delete's snapshot is
      // taken after the lock, so it sees a racing unlink that committed meanwhile. (Within one statement the other
      // link's row would still look alive, and two unlinks of an identity's last two links could both pass.)
      return sql.begin(async (tx) => {
        const [owner] = await tx<{ has_password: boolean }[]>`
          select password_hash is not null as has_password from attune.identity where id = ${identityId} for update`
        if (!owner) return 'not_found' as const
        const [row] = await tx<{ found: boolean; unlinked: boolean }[]>`
          with target as (
            select f.id, f.identity_id, f.provider from attune.federated_identity f where f.id = ${linkId} and f.identity_id = ${identityId}
          ), removed as (
            delete from attune.federated_identity f using target t
            where f.id = t.id and (
              ${owner.has_password}::boolean
              or exists (select 1 from attune.federated_identity other where other.identity_id = t.identity_id and other.id <> t.id)
            )
            returning f.id, f.identity_id, f.provider
          ), recorded as (${recordEvents(
            tx,
            { type: 'identity.unlinked', outcome: 'success', actor: USER, origin },
            tx`select identity_id, null::uuid as session_id, jsonb_build_object('provider', provider, 'linked_id', id) as data from removed`,
          )})
          select exists (select 1 from target) as found, exists (select 1 from removed) as unlinked`
        if (!row?.found) return 'not_found' as const
        return row.unlinked ? ('unlinked' as const) : ('last_way_in' as const)
      })
    },
  }
}

/** Deletes provider sign-ins (flows, one-time codes) that expired unused: the maintenance function's, apart from the repository. */
export async function purgeExpiredSignIns(sql: Sql): Promise<number> {
  const [row] = await sql<{ n: number }[]>`
    with flows as (delete from attune.oauth_flow where expires < now() returning 1),
         codes as (delete from attune.oauth_code where expires < now() returning 1)
    select (select count(*) from flows)::int + (select count(*) from codes)::int as n`
  return row?.n ?? 0
}
