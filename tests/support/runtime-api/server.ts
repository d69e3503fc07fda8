/**
 * A stand-in for the Lambda Runtime API (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html), the
 * local HTTP endpoint Lambda gives a runtime in AWS_LAMBDA_RUNTIME_API: it hands out one event on
 * `GET /2018-06-01/runtime/invocation/next` with Lambda's headers, and records what the runtime posts back
 * (`/invocation/<id>/response`, `/invocation/<id>/error` or `/init/error`). A later `next` is held open,
 * as Lambda holds it until the next event: a runtime that asks again has survived the invocation.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

const PREFIX = '/2018-06-01/runtime'

export interface Invocation {
  event: unknown
  /** Lambda-Runtime-Invoked-Function-Arn. */
  functionArn: string
  /** The function's timeout: Lambda-Runtime-Deadline-Ms is this long after the event is handed out. */
  timeoutMs: number
}

/** What the runtime answered: the handler's result, the handler's error, or an error while loading the handler. */
export type RuntimeOutcome =
  | { kind: 'response'; requestId: string; body: unknown }
  | { kind: 'error'; requestId: string; errorType: string | undefined; body: unknown }
  | { kind: 'init-error'; errorType: string | undefined; body: unknown }

export interface RuntimeApi {
  /** `host:port`, for AWS_LAMBDA_RUNTIME_API. */
  address: string
  requestId: string
  /** The first answer the runtime posts. */
  outcome: Promise<RuntimeOutcome>
  /** Settles when the runtime asks for a second event (after answering the first). */
  askedAgain: Promise<void>
  /** Requests this stand-in does not implement (method and path), which a test should see empty. */
  unexpected: string[]
  close(): Promise<void>
}

const readBody = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })

const parsed = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

/** Starts a Runtime API on 127.0.0.1 that serves `invocation` once. */
export async function startRuntimeApi(invocation: Invocation): Promise<RuntimeApi> {
  const requestId = randomUUID()
  const traceId = `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomBytes(12).toString('hex')};Parent=${randomBytes(8).toString('hex')};Sampled=0`
  const unexpected: string[] = []
  const held: ServerResponse[] = []
  let nextCalls = 0
  let settle: (outcome: RuntimeOutcome) => void = () => {}
  const outcome = new Promise<RuntimeOutcome>((resolve) => (settle = resolve))
  let askedAgainNow: () => void = () => {}
  const askedAgain = new Promise<void>((resolve) => (askedAgainNow = resolve))
  let answered = false
  const record = (value: RuntimeOutcome): void => {
    if (answered) unexpected.push(`a second answer: ${value.kind}`)
    answered = true
    settle(value)
  }
  const accepted = (res: ServerResponse): void => {
    res.writeHead(202, { 'Content-Type': 'application/json' }).end('{"status":"OK"}')
  }

  const server = createServer(async (req, res) => {
    const path = req.url ?? ''
    const body = await readBody(req)
    const errorType = req.headers['lambda-runtime-function-error-type']
    const typeOf = typeof errorType === 'string' ? errorType : undefined
    if (req.method === 'GET' && path === `${PREFIX}/invocation/next`) {
      nextCalls += 1
      if (nextCalls === 1) {
        res.writeHead(200, {
          'Content-Type': 'application/json',
          'Lambda-Runtime-Aws-Request-Id': requestId,
          'Lambda-Runtime-Deadline-Ms': String(Date.now() + invocation.timeoutMs),
          'Lambda-Runtime-Invoked-Function-Arn': invocation.functionArn,
          'Lambda-Runtime-Trace-Id': traceId,
        })
        res.end(JSON.stringify(invocation.event))
      } else {
        askedAgainNow()
        held.push(res) // Lambda answers when there is a next event: never, here.
      }
    } else if (req.method === 'POST' && path === `${PREFIX}/invocation/${encodeURIComponent(requestId)}/response`) {
      record({ kind: 'response', requestId, body: parsed(body) })
      accepted(res)
    } else if (req.method === 'POST' && path === `${PREFIX}/invocation/${encodeURIComponent(requestId)}/error`) {
      record({ kind: 'error', requestId, errorType: typeOf, body: parsed(body) })
      accepted(res)
    } else if (req.method === 'POST' && path === `${PREFIX}/init/error`) {
      record({ kind: 'init-error', errorType: typeOf, body: parsed(body) })
      accepted(res)
    } else {
      unexpected.push(`${req.method} ${path}`)
      res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"errorMessage":"not found","errorType":"InvalidRequest"}')
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    address: `127.0.0.1:${port}`,
    requestId,
    outcome,
    askedAgain,
    unexpected,
    close: async () => {
      for (const res of held) res.destroy()
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}
