/**
 * infra/edge-protection.cjs and the edge settings of serverless.yml: API Gateway throttling set on the stage
 * after a deploy (UpdateStage, against stand-in AWS clients here), reserved concurrency for the functions
 * that hash, and the optional WAF web ACL, packaged offline.
 */
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { PackagedStage } from '../support/osls-package.js'
import { packageStage } from '../support/osls-package.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const edge = createRequire(import.meta.url)('../../infra/edge-protection.cjs') as {
  stageThrottlingPatch(settings: unknown): Array<{ op: string; path: string; value: string }>
  applyStageThrottling(options: Record<string, unknown>): Promise<void>
}

const SETTINGS = {
  rateLimit: 500,
  burstLimit: 1000,
  routes: [
    { method: 'POST', path: '/auth/login', rateLimit: '50', burstLimit: '100' },
    { method: 'post', path: '/auth/change-password', rateLimit: '50', burstLimit: '100' },
  ],
}

describe('stage throttling after a deploy', () => {
  it('patches the stage default (/*/*) and each credential route, its path slashes as ~1', () => {
    expect(edge.stageThrottlingPatch(SETTINGS)).toEqual([
      { op: 'replace', path: '/*/*/throttling/rateLimit', value: '500' },
      { op: 'replace', path: '/*/*/throttling/burstLimit', value: '1000' },
      { op: 'replace', path: '/~1auth~1login/POST/throttling/rateLimit', value: '50' },
      { op: 'replace', path: '/~1auth~1login/POST/throttling/burstLimit', value: '100' },
      { op: 'replace', path: '/~1auth~1change-password/POST/throttling/rateLimit', value: '50' },
      { op: 'replace', path: '/~1auth~1change-password/POST/throttling/burstLimit', value: '100' },
    ])
  })

  it('finds the stack’s REST API and sends one UpdateStage for the deployed stage', async () => {
    const sent: Array<{ name: string; input: any }> = []
    class DescribeStackResourceCommand {
      constructor(readonly input: unknown) {}
    }
    class UpdateStageCommand {
      constructor(readonly input: unknown) {}
    }
    const client = (answer: (command: any) => unknown) => ({
      send: async (command: any) => {
        sent.push({ name: command.constructor.name, input: command.input })
        return answer(command)
      },
    })
    await edge.applyStageThrottling({
      cloudFormation: client(() => ({ StackResourceDetail: { PhysicalResourceId: 'abc123' } })),
      apiGateway: client(() => ({})),
      commands: { DescribeStackResourceCommand, UpdateStageCommand },
      stackName: 'attune-auth-prod',
      stage: 'prod',
      settings: SETTINGS,
      log: () => {},
    })
    expect(sent.map((s) => s.name)).toEqual(['DescribeStackResourceCommand', 'UpdateStageCommand'])
    expect(sent[0]?.input).toEqual({ StackName: 'attune-auth-prod', LogicalResourceId: 'ApiGatewayRestApi' })
    expect(sent[1]?.input).toMatchObject({ restApiId: 'abc123', stageName: 'prod' })
    expect(sent[1]?.input.patchOperations).toHaveLength(6)
  })
})

describe('edge resources in the packaged template', () => {
  const FILES = ['serverless.yml', 'package.json', 'functions', 'lib', 'infra', 'packages']
  const secrets = {
    '/attune-auth/prod/jwt-secret': 'prod-jwt-secret-of-at-least-32-bytes, random enough',
    '/attune-auth/prod/pseudonym-key': 'prod-pseudonym-key-of-at-least-32-bytes, random too',
    '/attune-auth/prod/mfa-encryption-keys': 'k1:cHJvZC1tZmEta2V5LXh4eHh4eHh4eHh4eHh4eHh4eHg=',
    '/attune-auth/prod/database-url': 'postgres://app@prod.proxy.example:5432/attune',
  }
  let withoutWaf: PackagedStage
  let withWaf: PackagedStage

  beforeAll(async () => {
    withoutWaf = await packageStage({ root: ROOT, files: FILES, stage: 'prod', parameters: secrets })
    withWaf = await packageStage({ root: ROOT, files: FILES, stage: 'prod', parameters: secrets, params: { wafRateLimit: '300' } })
  }, 180_000)

  afterAll(async () => {
    await withoutWaf?.cleanup()
    await withWaf?.cleanup()
  })

  it('reserves concurrency for the functions that hash passwords or recovery codes only (register, login, change-password, password reset, email change, the two-factor ones but status), so a flood of them cannot starve the authorizer', () => {
    const reserved = Object.fromEntries(
      Object.entries(withoutWaf.resources)
        .filter(([, r]) => r.Type === 'AWS::Lambda::Function' && r.Properties['ReservedConcurrentExecutions'] !== undefined)
        .map(([id, r]) => [id, r.Properties['ReservedConcurrentExecutions']]),
    )
    expect(reserved).toEqual({
      RegisterLambdaFunction: 20,
      LoginLambdaFunction: 20,
      ChangePasswordLambdaFunction: 20,
      PasswordResetLambdaFunction: 20,
      EmailChangeLambdaFunction: 20,
      MfaTotpEnrolLambdaFunction: 20,
      MfaTotpActivateLambdaFunction: 20,
      MfaTotpRemoveLambdaFunction: 20,
      MfaRecoveryCodesLambdaFunction: 20,
      MfaVerifyLambdaFunction: 20,
      ReauthenticateLambdaFunction: 20,
    })
  })

  it('creates no web ACL by default (its condition is false), and its rule still holds an integer limit for template checks', () => {
    expect(withoutWaf.conditions['WafEnabled']).toEqual({ 'Fn::Not': [{ 'Fn::Equals': ['', ''] }] })
    // cfn-lint reads a conditional resource as if created: an empty limit was its error E3012.
    expect(withoutWaf.resources['EdgeWebAcl']?.Properties['Rules'][0].Statement.RateBasedStatement.Limit).toBe(100)
  })

  it('with wafRateLimit, rate-limits POST /auth/* per address, and associates the web ACL after the stage’s deployment', () => {
    expect(withWaf.conditions['WafEnabled']).toEqual({ 'Fn::Not': [{ 'Fn::Equals': ['300', ''] }] })
    const rule = withWaf.resources['EdgeWebAcl']?.Properties['Rules'][0]
    expect(rule.Statement.RateBasedStatement).toMatchObject({ Limit: '300', AggregateKeyType: 'IP', EvaluationWindowSec: 300 })
    const deployment = Object.keys(withWaf.resources).find((id) => withWaf.resources[id]?.Type === 'AWS::ApiGateway::Deployment')
    expect((withWaf.resources['EdgeWebAclAssociation'] as { DependsOn?: string[] }).DependsOn).toContain(deployment)
  })
})
