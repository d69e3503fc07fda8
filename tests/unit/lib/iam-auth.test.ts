import { SignatureV4 } from '@smithy/signature-v4'
import { describe, expect, it } from 'vitest'
import { iamAuthToken, TOKEN_SECONDS } from '../../../lib/db/iam-auth.js'
import { Sha256 } from '../../support/sdk-sha256.js'

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
