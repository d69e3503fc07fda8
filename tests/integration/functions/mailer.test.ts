/**
 * The mailer against a real SES v2 stand-in (aws-ses-v2-local) over HTTP, with the AWS SDK the function uses:
 * what arrives, what the outbox keeps afterwards, retries, and no mail sent twice.
 * Other test files queue mail in the same database: this file's sender sends only to its own domain and
 * fails the rest (they keep their links and are retried later), so it never takes their mail away.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { getApp } from '../../../lib/app.js'
import { createOutboxRepository, queueMail } from '../../../lib/db/outbox.js'
import type { SendMail } from '../../../lib/email/mailer.js'
import { createMailer, renderMail, sesSender } from '../../../lib/email/mailer.js'
import { newEmailToken } from '../../../lib/email/tokens.js'
import { uniqueLogin } from '../../support/events.js'
import type { LocalSes } from '../../support/local-ses.js'
import { startLocalSes, tokenIn } from '../../support/local-ses.js'

const DOMAIN = 'mailer.attune.test'
const address = () => `${uniqueLogin('mailer')}@${DOMAIN}`

let ses: LocalSes

beforeAll(async () => {
  ses = await startLocalSes()
})
afterAll(() => ses?.stop())

/** A sender that sends this file's mail through `send` and fails everyone else's. */
const ours =
  (send: SendMail): SendMail =>
  (mail) =>
    mail.to.endsWith(`@${DOMAIN}`)
      ? send(mail)
      : Promise.reject(Object.assign(new Error('not this test file’s mail'), { name: 'ForeignMail' }))

const mailerWith = (send: SendMail) => {
  const app = getApp()
  return createMailer({ config: app.config.email, outbox: createOutboxRepository(app.sql), send: ours(send), logger: app.logger })
}

const toSes = () => sesSender({ ...getApp().config.email, sesEndpoint: ses.url })

async function queueReset(to: string) {
  const token = newEmailToken()
  const link = `https://app.attune.test/reset-password#token=${token.token}`
  const [row] = await getApp().sql<
    { id: string }[]
  >`${queueMail(getApp().sql, { template: 'password_reset', recipient: to, data: { link, expires_minutes: 30 } })}`
  return { id: Number(row?.id), token: token.token }
}

const outboxRow = async (id: number) =>
  (
    await getApp()
      .sql`select sent, attempts, message_id, last_error, data::text as data, next_attempt > now() as waiting from attune.outbox where id = ${id}`
  )[0]

describe('the mailer, through a local SES', () => {
  it('sends the queued mail with the link, text and HTML, then keeps no token in the outbox', async () => {
    const to = address()
    const { id, token } = await queueReset(to)
    await mailerWith(toSes()).deliver(500)
    const [mail] = await ses.mailsTo(to)
    expect(mail).toMatchObject({ from: 'Attune Auth Tests <no-reply@attune.test>', subject: 'Reset your Attune Auth password' })
    expect(tokenIn(mail as NonNullable<typeof mail>)).toBe(token)
    expect(mail?.body.html).toContain(`href="https://app.attune.test/reset-password#token=${token}"`)
    const row = await outboxRow(id)
    expect(row).toMatchObject({ sent: expect.any(Date), attempts: 1, message_id: mail?.messageId, last_error: null })
    expect(row?.['data']).not.toContain(token)
    expect(JSON.parse(row?.['data'])).toEqual({ expires_minutes: 30 })
  })

  it('retries a failed send after a wait, and never sends a mail twice once it succeeded', async () => {
    const to = address()
    const { id } = await queueReset(to)
    const unreachable = sesSender({ ...getApp().config.email, sesEndpoint: 'http://127.0.0.1:9' })
    await mailerWith(unreachable).deliver(500)
    expect(await outboxRow(id)).toMatchObject({ sent: null, attempts: 1, waiting: true, last_error: expect.any(String) })
    // Still waiting: a mailer run now does not try it again.
    await mailerWith(toSes()).deliver(500)
    expect(await ses.mailsTo(to)).toHaveLength(0)
    await getApp().sql`update attune.outbox set next_attempt = now() where id = ${id}`
    await mailerWith(toSes()).deliver(500)
    await mailerWith(toSes()).deliver(500)
    expect(await ses.mailsTo(to)).toHaveLength(1)
    expect(await outboxRow(id)).toMatchObject({ sent: expect.any(Date), attempts: 2, last_error: null })
  })

  it('sends each mail once when two mailers run at the same time', async () => {
    const recipients = Array.from({ length: 6 }, address)
    for (const to of recipients) await queueReset(to)
    await Promise.all([mailerWith(toSes()).deliver(500), mailerWith(toSes()).deliver(500)])
    for (const to of recipients) expect(await ses.mailsTo(to), to).toHaveLength(1)
  })

  it('escapes everything it interpolates into the HTML part', () => {
    const rendered = renderMail(
      {
        id: 1,
        template: 'password_reset',
        recipient: 'x@example.com',
        attempts: 0,
        data: { link: 'https://a.example/r#token="><script>x</script>', expires_minutes: 30 },
      },
      'Acme <b>& Co</b>',
    )
    expect(rendered.html).not.toContain('<script>')
    expect(rendered.html).not.toContain('<b>')
    expect(rendered.html).toContain('&quot;&gt;&lt;script&gt;')
    expect(rendered.html).toContain('Acme &lt;b&gt;&amp; Co&lt;/b&gt;')
    expect(rendered.subject).toBe('Reset your Acme <b>& Co</b> password')
  })
})
