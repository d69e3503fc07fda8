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
 */
import { readFile } from 'node:fs/promises'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import postgres from 'postgres'
import { PERMISSION_NAME, ROLE_NAME } from '../lib/authz/requests.js'
import { API_ID, parseRouteRequirements } from '../lib/authz/route-requirement-declarations.js'
import type { ChangeAuthor, RoleRepository } from '../lib/db/roles.js'
import { createRoleRepository } from '../lib/db/roles.js'
import { createRouteRequirementChanges } from '../lib/db/route-requirement-changes.js'
import { canonicalLogin } from '../lib/logins/canonical.js'

export const ADMIN_USAGE = `usage: npm run admin -- list | roles-of <login> | create-permission <name> [description]
       | create-role <name> [permission...] | grant-role <login> <role> [--until <date>] | revoke-role <login> <role>
       | route-requirements <api-id> | set-route-requirements <api-id> <file.json>`

const CLI: ChangeAuthor = {
  actor: { type: 'admin', id: 'cli' },
  origin: { requestId: null, sourceIp: null, userAgent: 'npm run admin' },
  grantedBy: null,
}

/** Runs one command; answers the lines to print, or throws an Error whose message says what is wrong. */
export async function runAdmin(argv: string[], sql: postgres.Sql): Promise<string[]> {
  const { positionals, values } = parseArgs({ args: argv, allowPositionals: true, strict: true, options: { until: { type: 'string' } } })
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
      return rows.map((row) => `${row.method === '*' ? 'ANY' : row.method} ${row.resource}: ${row.permission} (${row.mode})`)
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
