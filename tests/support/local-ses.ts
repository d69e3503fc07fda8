/**
 * A real SES v2 stand-in for tests (aws-ses-v2-local, the one npm start runs): the mailer's SES client sends
 * to it over HTTP exactly as to AWS, and `mails()` reads what arrived from its `/store`.
 */
import type { AddressInfo } from 'node:net'
import { startSes } from '../../infra/local/ses.js'

export interface ReceivedMail {
  messageId: string
  from: string
  destination: { to: string[] }
  subject: string
  body: { html?: string; text?: string }
}

export interface LocalSes {
  url: string
  mails(): Promise<ReceivedMail[]>
  /** The mails to `address`. */
  mailsTo(address: string): Promise<ReceivedMail[]>
  stop(): Promise<void>
}

export async function startLocalSes(): Promise<LocalSes> {
  const server = await startSes(0)
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const mails = async (): Promise<ReceivedMail[]> => ((await (await fetch(`${url}/store`)).json()) as { emails: ReceivedMail[] }).emails
  return {
    url,
    mails,
    mailsTo: async (address) => (await mails()).filter((mail) => mail.destination.to.includes(address)),
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

/** The token in a mail's link (`#token=...`), from its text part. */
export function tokenIn(mail: ReceivedMail): string {
  const match = mail.body.text?.match(/token=([A-Za-z0-9_-]{43})/)
  if (!match?.[1]) throw new Error(`no token in the mail "${mail.subject}"`)
  return match[1]
}
