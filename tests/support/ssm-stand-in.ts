/**
 * A stand-in for SSM Parameter Store's GetParameters (the AWS JSON 1.1 protocol, `X-Amz-Target:
 * AmazonSSM.GetParameters`), on 127.0.0.1: what lib/secrets.ts calls at run time. It answers SSM's shapes
 * (`Parameters`, `InvalidParameters`, `{__type, message}` errors), refuses requests that are not SigV4-signed
 * for `ssm` with the expected access key, and can be made to fail like an unreachable or denying SSM.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface SsmStandIn {
  url: string
  /** The parameters, by full name: change them to rotate a secret. */
  parameters: Map<string, string>
  /** Every GetParameters call's names, in order. */
  calls: string[][]
  /** `denied`: 400 AccessDeniedException; `down`: 503 ServiceUnavailable; undefined: answers. */
  failure: 'denied' | 'down' | undefined
  close(): Promise<void>
}

export async function startSsmStandIn(accessKeyId: string): Promise<SsmStandIn> {
  const standIn: SsmStandIn = {
    url: '',
    parameters: new Map(),
    calls: [],
    failure: undefined,
    close: async () => {},
  }
  const server = createServer((request, response) => {
    let text = ''
    request.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')))
    request.on('end', () => {
      const answer = (status: number, body: unknown) => {
        response.writeHead(status, { 'Content-Type': 'application/x-amz-json-1.1' }).end(JSON.stringify(body))
      }
      const authorization = request.headers.authorization ?? ''
      if (
        !new RegExp(
          `^AWS4-HMAC-SHA256 Credential=${accessKeyId}/\\d{8}/[a-z0-9-]+/ssm/aws4_request, SignedHeaders=[^,]+, Signature=[0-9a-f]{64}$`,
        ).test(authorization)
      ) {
        return answer(400, { __type: 'IncompleteSignatureException', message: 'not signed' })
      }
      if (request.headers['x-amz-target'] !== 'AmazonSSM.GetParameters') return answer(400, { __type: 'InvalidAction', message: 'unknown' })
      const { Names = [], WithDecryption } = JSON.parse(text) as { Names?: string[]; WithDecryption?: boolean }
      standIn.calls.push(Names)
      if (standIn.failure === 'denied') return answer(400, { __type: 'AccessDeniedException', message: 'not authorized' })
      if (standIn.failure === 'down') return answer(503, { __type: 'ServiceUnavailable', message: 'try later' })
      if (Names.length > 10) return answer(400, { __type: 'ValidationException', message: 'at most 10 names' })
      if (WithDecryption !== true)
        return answer(400, { __type: 'ValidationException', message: 'this stand-in only serves decrypted values' })
      answer(200, {
        Parameters: Names.filter((name) => standIn.parameters.has(name)).map((name) => ({
          Name: name,
          Type: 'SecureString',
          Value: standIn.parameters.get(name),
          Version: 1,
        })),
        InvalidParameters: Names.filter((name) => !standIn.parameters.has(name)),
      })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  standIn.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
  standIn.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    })
  return standIn
}
