import { randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { handler as maintenance } from '../../../functions/maintenance.js'
import { getApp } from '../../../lib/app.js'
import { registerUser } from '../../support/api.js'
import { lambdaContext } from '../../support/events.js'

describe('scheduled maintenance', () => {
  it('deletes sessions that ended or expired more than SESSION_RETENTION_DAYS ago, and keeps the others', async () => {
    const user = await registerUser()
    const { sql, config } = getApp()
    const days = config.sessions.retentionDays
    const ids = { endedLongAgo: randomUUID(), expiredLongAgo: randomUUID(), endedRecently: randomUUID(), active: randomUUID() }
    const insert = (id: string, revoked: string | null, expires: string) => sql`
      insert into attune.session (id, identity_id, refresh_jti, refresh_iat, created, revoked, expires)
      values (${id}, ${user.identityId}, ${randomUUID()}, 0, now() - make_interval(days => ${days + 40}),
              ${revoked === null ? null : sql`now() - ${revoked}::interval`}, now() + ${expires}::interval)`
    await insert(ids.endedLongAgo, `${days + 1} days`, '1 day')
    await insert(ids.expiredLongAgo, null, `-${days + 1} days`)
    await insert(ids.endedRecently, `${days - 1} days`, '1 day')
    await insert(ids.active, null, '1 day')

    const { sessionsDeleted } = await maintenance({}, lambdaContext())
    expect(sessionsDeleted).toBeGreaterThanOrEqual(2)
    const left = await sql`select id from attune.session where id in ${sql(Object.values(ids))}`
    expect(new Set(left.map((row) => row['id']))).toEqual(new Set([ids.endedRecently, ids.active]))
  })
})
