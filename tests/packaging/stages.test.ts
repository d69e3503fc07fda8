/**
 * The deployed stages, packaged offline (a stand-in SSM answers the secrets): what differs between
 * dev and prod, and where each stage's secrets come from.
 */
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SECRET_PARAMETERS } from '../../lib/secrets.js'
import type { PackagedStage } from '../support/osls-package.js'
import { packageStage } from '../support/osls-package.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const FILES = ['serverless.yml', 'package.json', 'functions', 'lib', 'infra']
/** Every secret a stage has in SSM, each a marker that must never reach the template or the functions' configuration. */
const secretsFor = (stage: string): Record<string, string> =>
  Object.fromEntries(
    [...Object.values(SECRET_PARAMETERS), 'oauth-google-client-secret'].map((name) => [
      `/attune-auth/${stage}/${name}`,
      `MARKER-${stage}-${name}-SECRET`,
    ]),
  )

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
  it('puts no secret in the template or the functions’ configuration: only where each stage’s secrets are', () => {
    for (const stage of ['dev', 'prod']) {
      // osls reads no secret at deploy time any more.
      expect(stages[stage]?.asked).toEqual([])
      const template = JSON.stringify(stages[stage]?.resources)
      for (const marker of Object.values(secretsFor(stage))) expect(template).not.toContain(marker)
      expect(template).not.toMatch(/MARKER-/)
      for (const env of environment(stage)) {
        expect(env).toMatchObject({
          STAGE: stage,
          SECRETS_PATH: `/attune-auth/${stage}`,
          // RDS's certificate authorities, for sslmode=verify-full (Node 20+ runtimes no longer load them by default).
          NODE_EXTRA_CA_CERTS: '/var/runtime/ca-cert.pem',
          DATABASE_AUTH: '',
          JWT_SECRET: '',
          DATABASE_URL: '',
          PSEUDONYM_KEY: '',
          MFA_ENCRYPTION_KEYS: '',
          JWT_PRIVATE_KEY: '',
        })
      }
    }
  })

  it('lets the functions read their own stage’s secrets only, decrypted through SSM only', () => {
    for (const stage of ['dev', 'prod']) {
      const role = Object.values(stages[stage]?.resources ?? {}).find((r) => r.Type === 'AWS::IAM::Role')
      const policies = (role?.Properties['Policies'] ?? []) as { PolicyDocument: { Statement: Record<string, any>[] } }[]
      const statements = policies.flatMap((policy) => policy.PolicyDocument.Statement)
      const reads = statements.filter(
        (statement) => statement['Effect'] === 'Allow' && JSON.stringify(statement['Action']).includes('ssm:'),
      )
      // Never the migrations' own login nor the providers' client secrets: the migrate and sign-in roles alone read them.
      expect(statements.filter((statement) => statement['Effect'] === 'Deny').map((statement) => statement['Resource'])).toEqual([
        [
          {
            'Fn::Sub': `arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:parameter/attune-auth/${stage}/migration-database-url`,
          },
          { 'Fn::Sub': `arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:parameter/attune-auth/${stage}/oauth-*` },
        ],
      ])
      expect(reads).toEqual([
        {
          Effect: 'Allow',
          Action: ['ssm:GetParameters'],
          Resource: { 'Fn::Sub': `arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:parameter/attune-auth/${stage}/*` },
        },
      ])
      const decrypt = statements.find((statement) => JSON.stringify(statement['Action']).includes('kms:'))
      expect(decrypt?.['Condition']).toEqual({ StringEquals: { 'kms:ViaService': { 'Fn::Sub': 'ssm.${AWS::Region}.amazonaws.com' } } })
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
