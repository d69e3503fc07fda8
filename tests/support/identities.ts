/** Identities written straight to the table, as an external sign-in or an older version of the service left them. */
import { getApp } from '../../lib/app.js'
import { loginKeyOf } from '../../lib/logins/canonical.js'
import { loginSkeleton } from '../../lib/logins/skeleton.js'

export async function insertIdentity(login: string, passwordHash: string | null = null): Promise<number> {
  const key = loginKeyOf(login)
  const [row] = await getApp().sql`
    insert into attune.identity (login, login_key, login_skeleton, password_hash)
    values (${login}, ${key}, ${loginSkeleton(key)}, ${passwordHash})
    returning id`
  return Number(row?.['id'])
}
