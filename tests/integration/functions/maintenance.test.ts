import { randomBytes, randomUUID } from 'node:crypto'
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

describe('scheduled maintenance: mail', () => {
  it('deletes expired email tokens and outbox rows sent more than 30 days ago, and keeps the rest', async () => {
    const user = await registerUser()
    const { sql } = getApp()
    const expired = Buffer.from(randomUUID().replace(/-/g, ''), 'hex')
    const live = Buffer.from(randomUUID().replace(/-/g, ''), 'hex')
    await sql`
      insert into attune.email_token (token_hash, identity_id, purpose, email, expires) values
        (${expired}, ${user.identityId}, 'password_reset', 'old@example.com', now() - interval '1 second'),
        (${live}, ${user.identityId}, 'verify_email', 'new@example.com', now() + interval '1 hour')`
    const rows = await sql<{ id: string }[]>`
      insert into attune.outbox (template, recipient, data, created, sent) values
        ('password_changed', 'old-sent@example.com', '{}', now() - interval '31 days', now() - interval '31 days'),
        ('password_changed', 'old-unsent@example.com', '{}', now() - interval '31 days', null),
        ('password_changed', 'recent@example.com', '{}', now() - interval '1 day', now() - interval '1 day')
      returning id`
    const { emailTokensDeleted, outboxRowsDeleted } = await maintenance({}, lambdaContext())
    expect(emailTokensDeleted).toBeGreaterThanOrEqual(1)
    expect(outboxRowsDeleted).toBeGreaterThanOrEqual(1)
    expect(await sql`select purpose from attune.email_token where token_hash in ${sql([expired, live])}`).toEqual([
      { purpose: 'verify_email' },
    ])
    const left = await sql`select recipient from attune.outbox where id in ${sql(rows.map((r) => r.id))} order by id`
    // A mail not yet sent stays, however old: the mailer may still send it.
    expect(left).toEqual([{ recipient: 'old-unsent@example.com' }, { recipient: 'recent@example.com' }])
  })
})

describe('scheduled maintenance: two-factor leftovers', () => {
  it('deletes expired login challenges and enrolments never activated, and keeps live ones and active factors', async () => {
    const user = await registerUser()
    const { sql } = getApp()
    const tokenHash = () => Buffer.from(randomUUID().replace(/-/g, ''), 'hex')
    const [expired, live] = [tokenHash(), tokenHash()]
    await sql`
      insert into attune.mfa_challenge (token_hash, identity_id, credentials_version, expires) values
        (${expired}, ${user.identityId}, 1, now() - interval '1 second'),
        (${live}, ${user.identityId}, 1, now() + interval '5 minutes')`
    const [abandoned, pending, active] = [randomUUID(), randomUUID(), randomUUID()]
    await sql`
      insert into attune.mfa_factor (id, identity_id, kind, secret_sealed, status, created) values
        (${abandoned}, ${user.identityId}, 'totp', 'sealed', 'pending', now() - interval '11 minutes'),
        (${pending}, ${user.identityId}, 'totp', 'sealed', 'pending', now()),
        (${active}, ${user.identityId}, 'totp', 'sealed', 'active', now() - interval '30 days')`
    const { mfaChallengesDeleted, mfaEnrolmentsDeleted } = await maintenance({}, lambdaContext())
    expect(mfaChallengesDeleted).toBeGreaterThanOrEqual(1)
    expect(mfaEnrolmentsDeleted).toBeGreaterThanOrEqual(1)
    expect(await sql`select count(*)::int as n from attune.mfa_challenge where identity_id = ${user.identityId}`).toEqual([{ n: 1 }])
    const factors = await sql`select id from attune.mfa_factor where identity_id = ${user.identityId} order by id`
    expect(factors.map((f) => f['id']).sort()).toEqual([pending, active].sort())
  })
})

describe('scheduled maintenance: provider sign-ins left unfinished', () => {
  it('deletes expired flows and one-time codes, and keeps live ones', async () => {
    const { sql } = getApp()
    const hash = () => randomBytes(32)
    const [expiredFlow, liveFlow, expiredCode, liveCode] = [hash(), hash(), hash(), hash()]
    await sql`
      insert into attune.oauth_flow (state_hash, provider, nonce, code_verifier, client_challenge, redirect_uri, expires) values
        (${expiredFlow}, 'example', 'n', 'v', 'c', 'https://app.test/cb', now() - interval '1 second'),
        (${liveFlow}, 'example', 'n', 'v', 'c', 'https://app.test/cb', now() + interval '10 minutes')`
    await sql`
      insert into attune.oauth_code (code_hash, provider, subject, email_verified, client_challenge, expires) values
        (${expiredCode}, 'example', 's', false, 'c', now() - interval '1 second'),
        (${liveCode}, 'example', 's', false, 'c', now() + interval '1 minute')`
    const { oauthFlowsDeleted } = await maintenance({}, lambdaContext())
    expect(oauthFlowsDeleted).toBeGreaterThanOrEqual(2)
    const left = await sql`
      select (select count(*) from attune.oauth_flow where state_hash in ${sql([expiredFlow, liveFlow])})::int as flows,
             (select count(*) from attune.oauth_code where code_hash in ${sql([expiredCode, liveCode])})::int as codes`
    expect(left).toEqual([{ flows: 1, codes: 1 }])
  })
})
