import { SignatureV4 } from '@smithy/signature-v4'
import { AwsClient } from 'aws4fetch'
import { describe, expect, it } from 'vitest'
import { SECRET_PARAMETERS, secretParameters } from '../../../lib/secrets.js'
import { Sha256 } from '../../support/sdk-sha256.js'

describe('reading secrets from SSM', () => {
  it('signs GetParameters exactly as the AWS SDK’s own SigV4 signer does', async () => {
    const credentials = {
      accessKeyId: 'AKIDEXAMPLE',
      secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
      sessionToken: 'session-token',
    }
    const body = JSON.stringify({ Names: ['/attune-auth/prod/jwt-secret'], WithDecryption: true })
    const headers = { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AmazonSSM.GetParameters' }
    const ours = await new AwsClient({ ...credentials, service: 'ssm', region: 'eu-west-1' }).sign('https://ssm.eu-west-1.amazonaws.com/', {
      method: 'POST',
      headers,
      body,
      aws: { datetime: '20261202T050000Z', allHeaders: true },
    })
    const sdk = await new SignatureV4({ credentials, region: 'eu-west-1', service: 'ssm', sha256: Sha256, applyChecksum: false }).sign(
      {
        method: 'POST',
        protocol: 'https:',
        hostname: 'ssm.eu-west-1.amazonaws.com',
        path: '/',
        headers: { host: 'ssm.eu-west-1.amazonaws.com', ...headers },
        body,
        query: {},
      },
      { signingDate: new Date('2026-12-02T05:00:00Z') },
    )
    expect(ours.headers.get('authorization')).toBe(sdk.headers['authorization'])
    expect(ours.headers.get('x-amz-security-token')).toBe('session-token')
  })

  it('reads the fixed secrets and each provider’s client secret under the stage’s path', () => {
    const wanted = secretParameters({ OAUTH_PROVIDERS: 'google, okta-eu' }, '/attune-auth/prod/')
    expect(Object.fromEntries(wanted)).toEqual({
      ...Object.fromEntries(Object.entries(SECRET_PARAMETERS).map(([variable, name]) => [variable, `/attune-auth/prod/${name}`])),
      OAUTH_GOOGLE_CLIENT_SECRET: '/attune-auth/prod/oauth-google-client-secret',
      OAUTH_OKTA_EU_CLIENT_SECRET: '/attune-auth/prod/oauth-okta-eu-client-secret',
    })
    // The migrations' own login only for the migrate function (the others' role is denied it).
    expect(secretParameters({}, '/attune-auth/prod').has('MIGRATION_DATABASE_URL')).toBe(false)
    expect(secretParameters({}, '/attune-auth/prod', { migration: true }).get('MIGRATION_DATABASE_URL')).toBe(
      '/attune-auth/prod/migration-database-url',
    )
  })
})
