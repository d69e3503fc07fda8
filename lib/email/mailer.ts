/**
 * The mailer: renders each due outbox row with its template and sends it through SES v2 (`@aws-sdk/client-sesv2`,
 * which the Lambda runtime provides; locally, npm start's SES stand-in at SES_ENDPOINT). Delivery, retries and
 * erasing tokens after sending are lib/db/outbox.ts's.
 */
import type { EmailConfig } from '../config.js'
import type { DeliveryReport, OutboxRepository, QueuedMail } from '../db/outbox.js'
import type { Logger } from '../log.js'
import type { RenderedMail } from './render.js'
import { MAIL_TEMPLATES } from './templates/index.js'

/** One message to one address. */
export interface OutgoingMail extends RenderedMail {
  to: string
}

/** Sends one message; answers the provider's message id. */
export type SendMail = (mail: OutgoingMail) => Promise<string>

/** A SendMail over SES v2, with the client made on first use. */
export function sesSender(config: Pick<EmailConfig, 'from' | 'sesEndpoint' | 'sesConfigurationSet'>): SendMail {
  let client: Promise<(mail: OutgoingMail) => Promise<string>> | undefined
  const connect = async () => {
    const { SESv2Client, SendEmailCommand } = await import('@aws-sdk/client-sesv2')
    const ses = new SESv2Client(
      config.sesEndpoint
        ? // A local stand-in: any credentials and region do.
          { endpoint: config.sesEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
        : {},
    )
    return async (mail: OutgoingMail) => {
      const charset = 'UTF-8'
      const answer = await ses.send(
        new SendEmailCommand({
          FromEmailAddress: config.from,
          Destination: { ToAddresses: [mail.to] },
          Content: {
            Simple: {
              Subject: { Data: mail.subject, Charset: charset },
              Body: { Text: { Data: mail.text, Charset: charset }, Html: { Data: mail.html, Charset: charset } },
            },
          },
          ...(config.sesConfigurationSet ? { ConfigurationSetName: config.sesConfigurationSet } : {}),
        }),
      )
      return answer.MessageId ?? ''
    }
  }
  return async (mail) => {
    client ??= connect()
    return (await client)(mail)
  }
}

/** A queued row as the message it stands for. */
export function renderMail(mail: QueuedMail, productName: string): OutgoingMail {
  const template = MAIL_TEMPLATES[mail.template] as { render(data: unknown, context: { productName: string }): RenderedMail } | undefined
  if (!template) throw new Error(`no mail template "${mail.template}"`)
  return { to: mail.recipient, ...template.render(mail.data, { productName }) }
}

export interface Mailer {
  /** Sends the due mail, at most `limit` messages. */
  deliver(limit: number): Promise<DeliveryReport>
}

export function createMailer(deps: {
  config: Pick<EmailConfig, 'productName'>
  outbox: OutboxRepository
  send: SendMail
  logger: Logger
}): Mailer {
  const { config, outbox, send, logger } = deps
  return {
    async deliver(limit) {
      const report = await outbox.deliver(async (mail) => {
        try {
          const messageId = await send(renderMail(mail, config.productName))
          logger.info('mail sent', { event: 'mail.send', outcome: 'success', outboxId: mail.id, template: mail.template, messageId })
          return messageId
        } catch (error) {
          logger.warn('mail not sent: it will be retried', {
            event: 'mail.send',
            outcome: 'failure',
            outboxId: mail.id,
            template: mail.template,
            attempt: mail.attempts + 1,
            // The name only: SES's messages can quote the addresses.
            reason: error instanceof Error ? error.name : 'send_failed',
          })
          throw error
        }
      }, limit)
      return report
    },
  }
}
