import { createHash, createHmac } from 'node:crypto'
import { SignatureV4 } from '@smithy/signature-v4'
import { describe, expect, it } from 'vitest'
import { iamAuthToken, TOKEN_SECONDS } from '../../../lib/db/iam-auth.js'

const bytes = (data: string | ArrayBuffer | ArrayBufferView): string | Uint8Array =>
  typeof data === 'string'
    ? data
    : ArrayBuffer.isView(data)
      ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
      : new Uint8Array(data)

class Sha256 {
  private readonly hash
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret))
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(bytes(data))
  }
  reset(): void {}
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest())
  }
}

const CREDENTIALS = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  sessionToken: 'session-token',
  region: 'eu-west-1',
}
const TARGET = { host: 'attune-db-prod.proxy-abc123.eu-west-1.rds.amazonaws.com', port: 5432, user: 'attune_app' }

describe('IAM database authentication tokens', () => {
  it('are the rds-db:connect presigned URL that the AWS SDK’s signer (what @aws-sdk/rds-signer uses) makes', async () => {
    const ours = new URL(`https://${await iamAuthToken(TARGET, CREDENTIALS, '20261202T050000Z')}`)
    const sdk = await new SignatureV4({
      service: 'rds-db',
      region: 'eu-west-1',
      credentials: CREDENTIALS,
      sha256: Sha256,
    }).presign(
      {
        method: 'GET',
        protocol: 'https:',
        hostname: TARGET.host,
        port: TARGET.port,
        path: '/',
        query: { Action: 'connect', DBUser: TARGET.user },
        headers: { host: `${TARGET.host}:${TARGET.port}` },
      },
      { expiresIn: TOKEN_SECONDS, signingDate: new Date('2026-12-02T05:00:00Z') },
    )
    expect(`${ours.hostname}:${ours.port}${ours.pathname}`).toBe(`${TARGET.host}:5432/`)
    expect(Object.fromEntries(ours.searchParams)).toEqual(sdk.query)
    expect(ours.searchParams.get('X-Amz-Expires')).toBe('900')
  })
})
