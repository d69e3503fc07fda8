/**
 * Migration 5: fills `login_key` and `login_skeleton` (lib/logins/) for every identity, then refuses to
 * complete if two identities would share either (the unique indexes of migration 6 would fail anyway;
 * this names the rows). An operator then decides which account keeps the login and renames the other
 * (`update attune.identity set login = '<new>' where id = <id>`: the columns are filled from `login`
 * again on the next run), and runs the migration again. docs/DEPLOY.md says so.
 *
 * Logins registered before logins were canonicalised may hold characters now refused at registration
 * (invisible ones, bidi controls): those are left out of the key and skeleton, so the look-alike without
 * them is taken.
 */
import type { TransactionSql } from 'postgres'
import { loginKeyOf } from '../../logins/canonical.js'
import { loginSkeleton } from '../../logins/skeleton.js'

const REFUSED_IN_NEW_LOGINS = /[\p{Default_Ignorable_Code_Point}\p{Bidi_Control}]/gu

export class LoginCollisionError extends Error {
  constructor(readonly collisions: string[]) {
    super(
      `Cannot complete the login-key migration: identities share a login key or skeleton. Rename all but one in each group, then migrate again:\n${collisions.join('\n')}`,
    )
    this.name = 'LoginCollisionError'
  }
}

export async function backfillLoginKeys(sql: TransactionSql): Promise<void> {
  const rows = await sql<{ id: string; login: string }[]>`select id, login from attune.identity order by id`
  const byKey = new Map<string, Array<{ id: string; login: string }>>()
  const bySkeleton = new Map<string, Array<{ id: string; login: string }>>()
  const computed = rows.map((row) => {
    const key = loginKeyOf(row.login.replace(REFUSED_IN_NEW_LOGINS, ''))
    const skeleton = loginSkeleton(key)
    byKey.set(key, [...(byKey.get(key) ?? []), row])
    bySkeleton.set(skeleton, [...(bySkeleton.get(skeleton) ?? []), row])
    return { id: row.id, key, skeleton }
  })
  const describe = (group: Array<{ id: string; login: string }>): string =>
    group.map((r) => `${r.id} ${JSON.stringify(r.login)}`).join(', ')
  const collisions = [
    ...[...byKey.values()].filter((group) => group.length > 1).map((group) => `same login key: ${describe(group)}`),
    ...[...bySkeleton.values()].filter((group) => group.length > 1).map((group) => `look alike: ${describe(group)}`),
  ]
  if (collisions.length > 0) throw new LoginCollisionError(collisions)
  for (let i = 0; i < computed.length; i += 1000) {
    const batch = computed.slice(i, i + 1000)
    await sql`
      update attune.identity i set login_key = b.key, login_skeleton = b.skeleton
      from (select unnest(${sql.array(batch.map((r) => r.id))}::bigint[]) as id,
                   unnest(${sql.array(batch.map((r) => r.key))}::text[]) as key,
                   unnest(${sql.array(batch.map((r) => r.skeleton))}::text[]) as skeleton) b
      where i.id = b.id`
  }
}
