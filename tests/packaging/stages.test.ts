/**
 * The deployed stages, packaged offline (a stand-in SSM answers the secrets): what differs between
 * dev and prod, and where each stage's secrets come from.
 */
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { PackagedStage } from '../support/osls-package.js'
import { packageStage } from '../support/osls-package.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const FILES = ['serverless.yml', 'package.json', 'functions', 'lib', 'infra']
const secretsFor = (stage: string): Record<string, string> => ({
  [`/attune-auth/${stage}/jwt-secret`]: `${stage}-jwt-secret-of-at-least-32-bytes!!!`,
  [`/attune-auth/${stage}/database-url`]: `postgres://app@${stage}.proxy.example:5432/attune`,
  [`/attune-auth/${stage}/pseudonym-key`]: `${stage}-pseudonym-key-of-at-least-32-bytes!!`,
  [`/attune-auth/${stage}/mfa-encryption-keys`]: `k1:${Buffer.from(`${stage}-mfa-key-of-32-bytes-exactly!`.slice(0, 32)).toString('base64')}`,
})

const stages: Record<string, PackagedStage> = {}

beforeAll(async () => {
  for (const stage of ['dev', 'prod'])
    stages[stage] = await packageStage({ root: ROOT, files: FILES, stage, parameters: secretsFor(stage) })
}, 180_000)

afterAll(async () => {
  for (const packaged of Object.values(stages)) await packaged.cleanup()
})

const functions = (stage: string) => Object.values(stages[stage]?.resources ?? {}).filter((r) => r.Type === 'AWS::Lambda::Function')
const environment = (stage: string) => functions(stage).map((f) => f.Properties['Environment'].Variables as Record<string, string>)
const authorizers = (stage: string) => Object.values(stages[stage]?.resources ?? {}).filter((r) => r.Type === 'AWS::ApiGateway::Authorizer')

describe('deployed stages, packaged offline', () => {
  it('reads each stage’s secrets from SSM under that stage’s own path, and nothing else', () => {
    for (const stage of ['dev', 'prod']) {
      expect(new Set(stages[stage]?.asked)).toEqual(
        new Set(
          [
            'jwt-secret',
            'database-url',
            'pseudonym-key',
            'mfa-encryption-keys',
            'jwt-private-key',
            'jwt-previous-secret',
            'jwt-previous-public-key',
          ].map((name) => `/attune-auth/${stage}/${name}`),
        ),
      )
      for (const env of environment(stage)) {
        expect(env).toMatchObject({
          STAGE: stage,
          JWT_SECRET: secretsFor(stage)[`/attune-auth/${stage}/jwt-secret`],
          DATABASE_URL: secretsFor(stage)[`/attune-auth/${stage}/database-url`],
          PSEUDONYM_KEY: secretsFor(stage)[`/attune-auth/${stage}/pseudonym-key`],
          MFA_ENCRYPTION_KEYS: secretsFor(stage)[`/attune-auth/${stage}/mfa-encryption-keys`],
          JWT_PRIVATE_KEY: '', // not set in SSM: HS256
        })
      }
    }
  })

  it('logs at debug on dev and at info on prod', () => {
    expect(new Set(environment('dev').map((e) => e['LOG_LEVEL']))).toEqual(new Set(['debug']))
    expect(new Set(environment('prod').map((e) => e['LOG_LEVEL']))).toEqual(new Set(['info']))
  })

  it('keeps the authorizer cache off on both stages, so a logout reaches access tokens at once', () => {
    for (const stage of ['dev', 'prod']) {
      expect(authorizers(stage)).toHaveLength(1)
      expect(authorizers(stage)[0]?.Properties).toMatchObject({ Type: 'REQUEST', AuthorizerResultTtlInSeconds: 0 })
    }
  })

  it('runs outside any VPC unless the stage has VPC settings, with no VPC permissions', () => {
    for (const stage of ['dev', 'prod']) {
      for (const f of functions(stage)) expect(f.Properties['VpcConfig']).toBeUndefined()
      const role = Object.values(stages[stage]?.resources ?? {}).find((r) => r.Type === 'AWS::IAM::Role')
      expect(role?.Properties['ManagedPolicyArns']).toBeUndefined()
    }
  })
})
