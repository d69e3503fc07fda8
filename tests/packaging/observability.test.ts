/**
 * Observability of a deployed stage (docs/DEPLOY.md "Observability: access logs, tracing, alarms"), packaged offline:
 * log retention per stage, X-Ray tracing (param tracing), the API's JSON access log (param accessLogs) and the
 * operational alarms (param alarmTopicArn). The access log and the stage's tracing are not in the template: osls sets
 * them on the stage after the deploy (API Gateway UpdateStage). Its own code for that step runs here on the packaged
 * state, against a stand-in API Gateway on localhost, and the test reads what it would change.
 */
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import { basename, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'
import type { PackagedStage } from '../support/osls-package.js'
import { packageStage } from '../support/osls-package.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const FILES = ['serverless.yml', 'package.json', 'functions', 'lib', 'infra', 'packages']
const REGION = 'us-east-1'
const ACCOUNT = '123456789012'
const TOPIC = `arn:aws:sns:${REGION}:${ACCOUNT}:operations`

type Resource = PackagedStage['resources'][string] & { Condition?: string }
interface Packaged {
  stage: string
  resources: Record<string, Resource>
  conditions: Record<string, unknown>
  /** osls's `serverless-state.json`: the resolved service, which `osls deploy` works from. */
  state: any
}
/** What osls's post-deploy step asked of API Gateway and CloudWatch Logs. */
interface StageUpdate {
  patchOperations: { op: string; path: string; value?: string }[]
  deletedLogGroups: string[]
}

/** dev with every option at its default; prod with the alarm topic, tracing and access logs on. */
let off: Packaged
let on: Packaged

async function packaged(stage: string, params: Record<string, string>): Promise<Packaged> {
  const result = await packageStage({ root: ROOT, files: FILES, stage, parameters: {}, params })
  try {
    const state = JSON.parse(readFileSync(join(result.out, 'serverless-state.json'), 'utf8'))
    return { stage, resources: result.resources as Record<string, Resource>, conditions: result.conditions, state }
  } finally {
    await result.cleanup()
  }
}

beforeAll(async () => {
  ;[off, on] = await Promise.all([packaged('dev', {}), packaged('prod', { alarmTopicArn: TOPIC, tracing: 'true', accessLogs: 'true' })])
}, 180_000)

/**
 * Runs osls's stage update (the `hack/update-stage.js` step of `osls deploy`) for a packaged stage against a stand-in
 * API Gateway and CloudWatch Logs that know one REST API, the stage's, with one deployment and its stage.
 */
async function updateStage({ stage, resources, state }: Packaged): Promise<StageUpdate> {
  const apiName = resources['ApiGatewayRestApi']?.Properties['Name']
  const update: StageUpdate = { patchOperations: [], deletedLogGroups: [] }
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (chunk: Buffer) => (body += chunk.toString()))
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://localhost').pathname
      const reply = (status: number, json?: unknown): void => {
        res.statusCode = status
        res.setHeader('Content-Type', 'application/json')
        res.end(json === undefined ? '' : JSON.stringify(json))
      }
      const target = req.headers['x-amz-target']
      if (target === 'Logs_20140328.DeleteLogGroup') {
        update.deletedLogGroups.push(JSON.parse(body).logGroupName)
        return reply(200, {})
      }
      if (req.method === 'GET' && path === '/restapis') return reply(200, { item: [{ id: 'a1b2c3d4e5', name: apiName }] })
      if (req.method === 'GET' && path === '/restapis/a1b2c3d4e5/deployments') return reply(200, { item: [{ id: 'd1' }] })
      if (req.method === 'GET' && path === `/restapis/a1b2c3d4e5/stages/${stage}`)
        return reply(200, { stageName: stage, deploymentId: 'd1', tags: { SERVICE: 'attune-auth', STAGE: stage } })
      if (req.method === 'PATCH' && path === `/restapis/a1b2c3d4e5/stages/${stage}`) {
        update.patchOperations.push(...JSON.parse(body).patchOperations)
        return reply(200, { stageName: stage })
      }
      if (path.startsWith('/tags/')) return reply(204)
      return reply(400, { message: `unexpected ${req.method} ${req.url} ${target ?? ''}` })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  try {
    const { updateStage: run } = createRequire(import.meta.url)(
      'osls/lib/plugins/aws/package/compile/events/api-gateway/lib/hack/update-stage.js',
    )
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    await run.call({
      state,
      options: { stage, region: REGION },
      provider: {
        getAwsSdkV3Config: async () => ({
          region: REGION,
          endpoint,
          credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
          maxAttempts: 1,
        }),
        getAccountInfo: async () => ({ accountId: ACCOUNT, partition: 'aws' }),
        getApiGatewayStage: () => stage,
      },
      serverless: {
        service: { provider: { compiledCloudFormationTemplate: { Resources: resources } } },
        utils: { isEventUsed: () => true },
      },
    })
  } finally {
    await new Promise((resolve) => server.close(resolve))
  }
  return update
}

const ofType = ({ resources }: Packaged, type: string): [string, Resource][] =>
  Object.entries(resources).filter(([, resource]) => resource.Type === type)
const patched = (update: StageUpdate, path: string) => update.patchOperations.filter((operation) => operation.path === path)

describe('log retention', () => {
  it('keeps every log group of the stage for logRetentionDays: 30 days, and 365 on prod (the access log’s too)', () => {
    for (const [stage, days] of [
      [off, 30],
      [on, 365],
    ] as const) {
      const groups = ofType(stage, 'AWS::Logs::LogGroup')
      expect(groups.length).toBeGreaterThan(40)
      for (const [id, group] of groups) expect(group.Properties['RetentionInDays'], `${stage.stage} ${id}`).toBe(days)
    }
    expect(on.resources['ApiGatewayLogGroup']?.Properties['LogGroupName']).toBe('/aws/api-gateway/attune-auth-prod')
  })
})

describe('API Gateway access logs (param accessLogs)', () => {
  let update: StageUpdate
  beforeAll(async () => {
    update = await updateStage(on)
  })

  it('writes one JSON line per request to the stage’s log group, and sets the account’s CloudWatch role nowhere', () => {
    expect(patched(update, '/accessLogSettings/destinationArn')).toEqual([
      {
        op: 'replace',
        path: '/accessLogSettings/destinationArn',
        value: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/api-gateway/attune-auth-prod`,
      },
    ])
    // No custom resource (and function) to set the account's API Gateway CloudWatch role: set once by hand.
    expect(Object.values(on.resources).filter((r) => r.Type.startsWith('Custom::'))).toEqual([])
    expect(Object.keys(on.resources).filter((id) => /CustomDashresource|ApiGatewayAccount/i.test(id))).toEqual([])
  })

  it('logs who asked what and how it went, with no header, token or body', () => {
    const [setting] = patched(update, '/accessLogSettings/format')
    const format = JSON.parse(setting?.value ?? '') as Record<string, string>
    expect(format).toEqual({
      requestId: '$context.requestId',
      extendedRequestId: '$context.extendedRequestId',
      ip: '$context.identity.sourceIp',
      requestTime: '$context.requestTime',
      httpMethod: '$context.httpMethod',
      resourcePath: '$context.resourcePath',
      status: '$context.status',
      protocol: '$context.protocol',
      responseLength: '$context.responseLength',
      integrationLatency: '$context.integrationLatency',
      responseLatency: '$context.responseLatency',
      authorizerError: '$context.authorizer.error',
      authorizerLatency: '$context.authorizer.latency',
      authorizerStatus: '$context.authorizer.status',
      errorResponseType: '$context.error.responseType',
      principalId: '$context.authorizer.principalId',
      userAgent: '$context.identity.userAgent',
    })
    expect(setting?.value).not.toContain('\n')
    for (const variable of Object.values(format)) {
      expect(variable).toMatch(/^\$context\.[A-Za-z.]+$/)
      expect(variable).not.toMatch(/header|authorization|token|apiKey|override|body|\$input|cognito|caller|\.user$/i)
    }
  })

  it('keeps execution logs and their full request data (the Authorization header) off', () => {
    expect(patched(update, '/*/*/logging/loglevel')).toEqual([{ op: 'replace', path: '/*/*/logging/loglevel', value: 'OFF' }])
    expect(patched(update, '/*/*/logging/dataTrace')).toEqual([{ op: 'replace', path: '/*/*/logging/dataTrace', value: 'false' }])
    expect(update.deletedLogGroups).toEqual([])
  })

  it('are off by default: no log group, and any access log setting of the stage removed', async () => {
    expect(off.resources['ApiGatewayLogGroup']).toBeUndefined()
    const defaults = await updateStage(off)
    expect(patched(defaults, '/accessLogSettings')).toEqual([{ op: 'remove', path: '/accessLogSettings' }])
    expect(patched(defaults, '/accessLogSettings/format')).toEqual([])
    expect(patched(defaults, '/*/*/logging/loglevel')).toEqual([{ op: 'replace', path: '/*/*/logging/loglevel', value: 'OFF' }])
    expect(patched(defaults, '/*/*/logging/dataTrace')).toEqual([{ op: 'replace', path: '/*/*/logging/dataTrace', value: 'false' }])
    expect(patched(defaults, '/tracingEnabled')).toEqual([{ op: 'replace', path: '/tracingEnabled', value: 'false' }])
    // osls's own clean-up of a former access log group (best effort: it ignores a refusal).
    expect(defaults.deletedLogGroups).toEqual(['/aws/api-gateway/attune-auth-dev'])
  })
})

describe('X-Ray tracing (param tracing)', () => {
  it('traces the stage and every function, and lets the functions’ role send traces', async () => {
    expect(patched(await updateStage(on), '/tracingEnabled')).toEqual([{ op: 'replace', path: '/tracingEnabled', value: 'true' }])
    const functions = ofType(on, 'AWS::Lambda::Function')
    expect(functions.length).toBeGreaterThan(40)
    for (const [id, lambda] of functions) {
      // migrate's role grants no X-Ray right, and Lambda refuses Active tracing without one.
      const mode = id === 'MigrateLambdaFunction' ? 'PassThrough' : 'Active'
      expect(lambda.Properties['TracingConfig'], id).toEqual({ Mode: mode })
    }
    expect(JSON.stringify(on.resources['IamRoleLambdaExecution'])).toContain('xray:PutTraceSegments')
    expect(JSON.stringify(on.resources['MigrateRole'])).not.toContain('xray')
  })

  it('is off by default', () => {
    for (const [id, lambda] of ofType(off, 'AWS::Lambda::Function')) expect(lambda.Properties['TracingConfig'], id).toBeUndefined()
    // No X-Ray right in any role, but the statements of the functions' own roles under condition TracingEnabled (false).
    const withoutConditional = JSON.stringify(off.resources).replace(/\{"Fn::If":\["TracingEnabled",.*?\{"Ref":"AWS::NoValue"\}\]\}/g, '')
    expect(withoutConditional).not.toContain('xray')
    expect(off.conditions['TracingEnabled']).toEqual({ 'Fn::Equals': ['false-', 'true-'] })
    expect(off.state.service.provider.tracing).toEqual({ apiGateway: false, lambda: false })
  })
})

describe('operational alarms (param alarmTopicArn)', () => {
  const common = {
    Period: 300,
    EvaluationPeriods: 1,
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    TreatMissingData: 'notBreaching',
    AlarmActions: [TOPIC],
    OKActions: [TOPIC],
  }
  const alarms = (packaged: Packaged) => ofType(packaged, 'AWS::CloudWatch::Alarm')
  const alarmNamed = (name: string): Record<string, any> | undefined =>
    alarms(on).find(([, alarm]) => alarm.Properties['AlarmName'] === `attune-auth-prod-${name}`)?.[1].Properties
  const onFunction = (logicalId: string) => [{ Name: 'FunctionName', Value: { Ref: logicalId } }]

  it('are off by default, like the security alarms: their condition is false', () => {
    expect(off.conditions['SecurityAlarmsEnabled']).toEqual({ 'Fn::Not': [{ 'Fn::Equals': ['', ''] }] })
    expect(on.conditions['SecurityAlarmsEnabled']).toEqual({ 'Fn::Not': [{ 'Fn::Equals': [TOPIC, ''] }] })
    expect(alarms(off).length).toBe(alarms(on).length)
    for (const [id, alarm] of alarms(off)) expect(alarm.Condition, id).toBe('SecurityAlarmsEnabled')
  })

  it('are named attune-auth-<stage>-*, which the stage’s CloudFormation service role may manage', () => {
    for (const [id, alarm] of alarms(on)) expect(alarm.Properties['AlarmName'], id).toMatch(/^attune-auth-prod-[a-z0-9-]+$/)
  })

  it('watch the authorizer’s errors: one in 5 minutes by default', () => {
    expect(alarmNamed('authorizer-errors')).toMatchObject({
      ...common,
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: onFunction('AuthorizerLambdaFunction'),
      Statistic: 'Sum',
      Threshold: 1,
    })
  })

  it('watch the stage’s 5XX answers: serverErrorAlarmThreshold (5) in 5 minutes, on the REST API osls names', () => {
    const apiName = on.resources['ApiGatewayRestApi']?.Properties['Name']
    expect(apiName).toBe('prod-attune-auth')
    expect(alarmNamed('api-5xx')).toMatchObject({
      ...common,
      Namespace: 'AWS/ApiGateway',
      MetricName: '5XXError',
      Dimensions: [
        { Name: 'ApiName', Value: apiName },
        { Name: 'Stage', Value: 'prod' },
      ],
      Statistic: 'Sum',
      Threshold: 5,
    })
  })

  it('watch throttling of every function with reserved concurrency, and of the authorizer', () => {
    const watched = ofType(on, 'AWS::Lambda::Function').filter(
      ([id, lambda]) => lambda.Properties['ReservedConcurrentExecutions'] !== undefined || id === 'AuthorizerLambdaFunction',
    )
    expect(watched.length).toBe(12)
    for (const [id, lambda] of watched) {
      const name = basename(lambda.Properties['Handler'] as string, '.handler')
      expect(alarmNamed(`${name}-throttles`), id).toMatchObject({
        ...common,
        Namespace: 'AWS/Lambda',
        MetricName: 'Throttles',
        Dimensions: onFunction(id),
        Statistic: 'Sum',
        Threshold: 1,
      })
    }
    expect(alarms(on).filter(([, alarm]) => alarm.Properties['MetricName'] === 'Throttles').length).toBe(watched.length)
  })

  it('watch the authorizer’s and login’s slowest run in 5 minutes reaching 80% of the function’s timeout', () => {
    for (const [name, logicalId] of [
      ['authorizer', 'AuthorizerLambdaFunction'],
      ['login', 'LoginLambdaFunction'],
    ]) {
      const timeout = on.resources[logicalId as string]?.Properties['Timeout'] as number
      expect(timeout).toBeGreaterThan(0)
      expect(alarmNamed(`${name}-duration`), name).toMatchObject({
        ...common,
        Namespace: 'AWS/Lambda',
        MetricName: 'Duration',
        Dimensions: onFunction(logicalId as string),
        Statistic: 'Maximum',
        Threshold: timeout * 1000 * 0.8,
      })
    }
  })
})
