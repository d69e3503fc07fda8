/**
 * `npm run admin -- <command>`: roles and permissions without a console, against DATABASE_URL (README "Roles
 * and permissions"). Every change writes its audit event with the actor `admin:cli`.
 *
 *   list                                   roles and their permissions
 *   roles-of <login>                       an identity's roles and permissions now
 *   create-permission <name> [description] a permission, `resource:action`
 *   create-role <name> [permission...]     a role with those (existing) permissions
 *   grant-role <login> <role> [--until <date>]
 *   revoke-role <login> <role>
 *   route-requirements <api-id>            what the routes of an API behind the authorizer need
 *   set-route-requirements <api-id> <file> makes them exactly the file's (lib/authz/route-requirement-declarations.ts)
 *   create-service-account <name>          an identity of kind service (login service:<name>), no password
 *   create-key <account> <key-name> [--scopes a:b,c:d] [--days 90]   prints the key, once
 *   list-keys <account> | revoke-key <account> <key-id> | rotate-key <account> <key-id>
 *   suspend <login> [--reason text]       no sign-in finishes, its API keys are refused, every session ends
 *   unsuspend <login> | end-sessions <login>
 */
import { readFile } from 'node:fs/promises'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import postgres from 'postgres'
import { PERMISSION_NAME, ROLE_NAME } from '../lib/authz/requests.js'
import { API_ID, parseRouteRequirements } from '../lib/authz/route-requirement-declarations.js'
import { loadSessionPolicy } from '../lib/config.js'
import type { ChangeAuthor, RoleRepository } from '../lib/db/roles.js'
import { createRoleRepository } from '../lib/db/roles.js'
import { createRouteRequirementChanges } from '../lib/db/route-requirement-changes.js'
import { createServiceAccountRepository } from '../lib/db/service-accounts.js'
import { createSuspensionRepository, SUSPENSION_REASON_MAX } from '../lib/db/suspensions.js'
import {
  API_KEY_DEFAULT_DAYS,
  API_KEY_MAX_DAYS,
  API_KEY_ROTATION_OVERLAP_HOURS,
  apiKeyEnvironmentOf,
  mintApiKey,
  newStoredApiKey,
} from '../lib/keys/api-key.js'
import { SERVICE_ACCOUNT_NAME } from '../lib/keys/requests.js'
import { canonicalLogin } from '../lib/logins/canonical.js'

export const ADMIN_USAGE = `usage: npm run admin -- list | roles-of <login> | create-permission <name> [description]
       | create-role <name> [permission...] | grant-role <login> <role> [--until <date>] | revoke-role <login> <role>
       | route-requirements <api-id> | set-route-requirements <api-id> <file.json>
       | create-service-account <name> | create-key <account> <key-name> [--scopes a:b,c:d] [--days 90]
       | list-keys <account> | revoke-key <account> <key-id> | rotate-key <account> <key-id>
       | suspend <login> [--reason text] | unsuspend <login> | end-sessions <login>`

const CLI: ChangeAuthor = {
  actor: { type: 'admin', id: 'cli' },
  origin: { requestId: null, sourceIp: null, userAgent: 'npm run admin' },
  grantedBy: null,
}

/** Runs one command; answers the lines to print, or throws an Error whose message says what is wrong. */
export async function runAdmin(argv: string[], sql: postgres.Sql): Promise<string[]> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: { until: { type: 'string' }, scopes: { type: 'string' }, days: { type: 'string' }, reason: { type: 'string' } },
  })
  const [command, ...args] = positionals
  const roles: RoleRepository = createRoleRepository(sql)
  const identityOf = async (login: string | undefined): Promise<{ id: number; login: string }> => {
    const canonical = login ? canonicalLogin(login.normalize('NFC')) : undefined
    if (!canonical?.ok) throw new Error(`"${login ?? ''}" is not a login`)
    const [row] = await sql<{ id: string; login: string }[]>`select id, login from attune.identity where login_key = ${canonical.key}`
    if (!row) throw new Error(`no identity has the login "${login}"`)
    return { id: Number(row.id), login: row.login }
  }
  switch (command) {
    case 'list':
      return (await roles.listRoles()).map((role) => `${role.name}: ${role.permissions.join(' ') || '(no permissions)'}`)
    case 'roles-of': {
      const identity = await identityOf(args[0])
      const grants = await roles.grantsOf(identity.id)
      return [
        `${identity.login} (${identity.id}): roles ${grants.roles.join(' ') || '(none)'}; permissions ${grants.permissions.join(' ') || '(none)'}`,
      ]
    }
    case 'create-permission': {
      const [name, ...description] = args
      if (!name || !PERMISSION_NAME.test(name)) throw new Error('a permission is resource:action, e.g. orders:read')
      return [(await roles.createPermission(name, description.join(' '), CLI)) ? `created ${name}` : `${name} exists already`]
    }
    case 'create-role': {
      const [name, ...permissions] = args
      if (!name || !ROLE_NAME.test(name)) throw new Error('a role name is lowercase letters, digits, - and _')
      return [(await roles.createRole(name, '', permissions, CLI)) ? `created ${name}` : `${name} exists already`]
    }
    case 'grant-role':
    case 'revoke-role': {
      const identity = await identityOf(args[0])
      const role = args[1]
      if (!role) throw new Error(`${command} needs a login and a role`)
      if (command === 'revoke-role') {
        return [
          (await roles.revokeRole(identity.id, role, CLI))
            ? `revoked ${role} from ${identity.login}`
            : `${identity.login} does not hold ${role}`,
        ]
      }
      const until = values.until === undefined ? null : new Date(values.until)
      if (until !== null && Number.isNaN(until.getTime())) throw new Error('--until must be a date, e.g. 2027-01-01')
      if (!(await roles.grantRole(identity.id, role, until, CLI))) throw new Error(`no role "${role}" (npm run admin -- list)`)
      return [`granted ${role} to ${identity.login}${until ? ` until ${until.toISOString()}` : ''}`]
    }
    case 'route-requirements':
    case 'set-route-requirements': {
      const [apiId, file] = args
      if (!apiId || !API_ID.test(apiId)) throw new Error(`${command} needs an API id (API Gateway's, e.g. a1b2c3d4e5)`)
      const requirements = createRouteRequirementChanges(sql)
      if (command === 'set-route-requirements') {
        if (!file) throw new Error('set-route-requirements needs the API id and a file')
        const declared = parseRouteRequirements(JSON.parse(await readFile(file, 'utf8')))
        const { added, changed, removed, permissionsCreated } = await requirements.replace(apiId, declared, CLI)
        return [
          ...permissionsCreated.map((name) => `created permission ${name}`),
          `${apiId}: ${declared.length} requirements (${added} added, ${changed} changed, ${removed} removed)`,
        ]
      }
      const rows = await requirements.list(apiId)
      if (rows.length === 0) return [`${apiId}: no route requirements (every route open to any signed-in caller)`]
      return rows.map((row) => {
        const needs = [row.permission, row.minAcr && `min_acr ${row.minAcr}`, row.maxAge !== null && `max_age ${row.maxAge}s`]
        return `${row.method === '*' ? 'ANY' : row.method} ${row.resource}: ${needs.filter(Boolean).join(', ')} (${row.mode})`
      })
    }
    case 'create-service-account': {
      const [name] = args
      if (!name || !SERVICE_ACCOUNT_NAME.test(name)) throw new Error('a service account name is 3-63 lower-case letters, digits and -')
      const created = await createServiceAccountRepository(sql).create(name, CLI)
      if (!created) throw new Error(`the login service:${name} exists already`)
      return [
        `created service account ${name} (identity ${created.id}); grant it roles: npm run admin -- grant-role service:${name} <role>`,
      ]
    }
    case 'create-key':
    case 'list-keys':
    case 'revoke-key':
    case 'rotate-key': {
      const accounts = createServiceAccountRepository(sql)
      const account = args[0] ? await accounts.find(args[0]) : undefined
      if (!account) throw new Error(`no service account "${args[0] ?? ''}" (npm run admin -- create-service-account <name>)`)
      // The stage's keys (the CLI needs no secret but DATABASE_URL): STAGE as the functions read it.
      const environment = apiKeyEnvironmentOf(process.env['STAGE']?.trim() ?? '')
      if (command === 'list-keys') {
        const keys = await accounts.listKeys(account.id)
        return keys.map((k) => {
          const state = k.revokedAt
            ? 'revoked'
            : k.expiresAt.getTime() <= Date.now()
              ? 'expired'
              : k.replacedBy
                ? `rotated, until ${k.expiresAt.toISOString()}`
                : `until ${k.expiresAt.toISOString()}`
          return `${k.id} ${k.display} ${k.name}: ${k.scopes.join(' ') || '(no scopes)'} (${state}; last used ${k.lastUsed?.toISOString() ?? 'never'})`
        })
      }
      if (command === 'create-key') {
        const name = args[1]
        if (!name || name.length > 64) throw new Error('create-key needs the account and a key name (at most 64 characters)')
        const scopes = (values.scopes ?? '')
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s.length > 0)
        const bad = scopes.find((scope) => !PERMISSION_NAME.test(scope))
        if (bad !== undefined) throw new Error(`"${bad}" is not a permission (resource:action)`)
        const days = Number(values.days ?? API_KEY_DEFAULT_DAYS)
        if (!Number.isInteger(days) || days < 1 || days > API_KEY_MAX_DAYS) throw new Error(`--days is 1 to ${API_KEY_MAX_DAYS}`)
        const { key, stored } = mintApiKey(environment, days)
        const created = await accounts.createKey(account.id, { ...stored, name, scopes: [...new Set(scopes)].sort() }, CLI)
        if (created.outcome === 'scopes_not_held')
          throw new Error(
            `the account does not hold ${created.scopes.join(', ')}: a key's scopes are a subset of its account's permissions`,
          )
        if (created.outcome === 'no_account') throw new Error(`no service account "${args[0]}"`)
        return [`key ${stored.id} (${stored.display}), until ${stored.expiresAt.toISOString()}; shown this once:`, key]
      }
      const keyId = args[1] ?? ''
      if (command === 'revoke-key') {
        if (!(await accounts.revokeKey(account.id, keyId, CLI))) throw new Error(`no live key ${keyId} of ${account.name}`)
        return [`revoked ${keyId}`]
      }
      const overlap = Number(process.env['API_KEY_ROTATION_OVERLAP_HOURS'] ?? API_KEY_ROTATION_OVERLAP_HOURS)
      const { key, stored } = newStoredApiKey(environment)
      const expiresAt = await accounts.rotateKey(account.id, keyId, stored, overlap, CLI)
      if (!expiresAt) throw new Error(`no live, unrotated key ${keyId} of ${account.name}`)
      return [
        `key ${stored.id} (${stored.display}) replaces ${keyId}, which works ${overlap} more hours; until ${expiresAt.toISOString()}; shown this once:`,
        key,
      ]
    }
    case 'suspend':
    case 'unsuspend':
    case 'end-sessions': {
      const identity = await identityOf(args[0])
      const suspensions = createSuspensionRepository(sql, loadSessionPolicy(process.env))
      if (command === 'end-sessions')
        return [`ended ${(await suspensions.endSessions(identity.id, CLI)) ?? 0} sessions of ${identity.login}`]
      if (command === 'unsuspend')
        return [
          (await suspensions.unsuspend(identity.id, CLI)) ? `${identity.login} may sign in again` : `${identity.login} is not suspended`,
        ]
      const reason = values.reason?.trim() || null
      if (reason !== null && reason.length > SUSPENSION_REASON_MAX)
        throw new Error(`--reason is at most ${SUSPENSION_REASON_MAX} characters`)
      const suspended = await suspensions.suspend(identity.id, reason, CLI)
      if (!suspended) throw new Error(`no identity has the login "${args[0]}"`)
      return [
        suspended.newly
          ? `suspended ${identity.login}: ${suspended.sessionsEnded} sessions ended`
          : `${identity.login} was suspended already (${suspended.sessionsEnded} sessions ended now)`,
      ]
    }
    default:
      throw new Error(ADMIN_USAGE)
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const url = process.env['DATABASE_URL']?.trim()
  if (!url) {
    console.error(`DATABASE_URL is required (npm start prints the local one)\n${ADMIN_USAGE}`)
    process.exitCode = 1
  } else {
    const sql = postgres(url, { max: 1, onnotice: () => {}, connection: { application_name: 'attune-auth-admin' } })
    runAdmin(process.argv.slice(2), sql)
      .then((lines) => console.log(lines.join('\n')))
      .catch((error: unknown) => {
        console.error(error instanceof Error ? error.message : error)
        process.exitCode = 1
      })
      .finally(() => sql.end())
  }
}
