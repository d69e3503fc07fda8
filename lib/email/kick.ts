/**
 * After a commit that queued mail, the mailer function is invoked asynchronously (InvocationType Event: Lambda
 * queues it and answers at once), so a reset mail normally leaves within a second or two instead of waiting
 * for the minute schedule. The Lambda client is the runtime's AWS SDK, loaded on first use (it stays out of
 * the bundles). A failed kick is only logged: the schedule sends the mail anyway.
 */
import type { EmailConfig } from '../config.js'
import type { Logger } from '../log.js'

/** Starts the mailer now; never throws. */
export type MailKick = () => Promise<void>

export function createMailKick(config: Pick<EmailConfig, 'mailerFunction' | 'lambdaEndpoint'>, logger: Logger): MailKick {
  const functionName = config.mailerFunction
  if (!functionName) return async () => {}
  let client: Promise<{ invoke: () => Promise<unknown> }> | undefined
  const connect = async () => {
    const { LambdaClient, InvokeCommand } = await import('@aws-sdk/client-lambda')
    const lambda = new LambdaClient(
      config.lambdaEndpoint
        ? // A local stand-in (serverless-offline's Lambda port): any credentials and region do.
          { endpoint: config.lambdaEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
        : {},
    )
    return { invoke: () => lambda.send(new InvokeCommand({ FunctionName: functionName, InvocationType: 'Event', Payload: '{}' })) }
  }
  return async () => {
    try {
      client ??= connect()
      await (await client).invoke()
    } catch (error) {
      client = undefined
      logger.warn('could not start the mailer now: the schedule will send the mail', { event: 'mail.kick', outcome: 'failure', error })
    }
  }
}
