/**
 * Every CloudFormation template this repository deploys, checked property by property against AWS's resource
 * specification (@aws-cdk/aws-service-spec; tests/support/resource-spec.ts), inside `npm test`, for machines
 * without cfn-lint (issue 21; .ci/run runs cfn-lint where it is). The templates are infra/lint-templates.ts's:
 * the service packaged for stage local, dev, prod, prod with every option on, prod in a VPC, the example service,
 * and infra/*.yml. First, that the checker finds the defects it is for, and accepts what CloudFormation accepts.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadAwsServiceSpec } from '@aws-cdk/aws-service-spec'
import { beforeAll, describe, expect, it } from 'vitest'
import { packageVariant, VARIANTS } from '../../infra/lint-templates.js'
import { parseCloudFormationYaml } from '../support/cloudformation-yaml.js'
import { checkTemplate, formatProblem, type Inspection, inspectTemplate, type SpecDatabase } from '../support/resource-spec.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

type Json = any
type Variant = (typeof VARIANTS)[number]

let db: SpecDatabase
beforeAll(async () => {
  db = await loadAwsServiceSpec() // ~0.5 s: once for the file
})

const summary = (inspection: Inspection): string =>
  `${inspection.resources} resources, ${inspection.values} property values (${inspection.intrinsic} of them intrinsic functions), ` +
  `${inspection.getAtts} attribute references`

describe('the checker', () => {
  /** A function, its role, and an output: valid as it is; each test breaks one thing. */
  const valid = (): Json => ({
    Resources: {
      Role: {
        Type: 'AWS::IAM::Role',
        Properties: {
          AssumeRolePolicyDocument: {
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
          },
          Tags: [{ Key: 'service', Value: 'attune-auth' }],
        },
      },
      Fn: {
        Type: 'AWS::Lambda::Function',
        DependsOn: ['Role'],
        DeletionPolicy: 'Delete',
        UpdateReplacePolicy: 'Delete',
        Condition: 'Always',
        Metadata: { anything: ['goes'] },
        Properties: {
          Code: { S3Bucket: 'bucket', S3Key: 'fn.zip' },
          Handler: 'index.handler',
          Runtime: 'nodejs24.x',
          Role: { 'Fn::GetAtt': ['Role', 'Arn'] },
          MemorySize: 1024,
          Timeout: 10,
          Architectures: ['arm64'],
          Environment: { Variables: { STAGE: 'prod', PORT: 5432, ARN: { 'Fn::Sub': '${Role.Arn}' } } },
          VpcConfig: { 'Fn::If': ['InVpc', { SubnetIds: ['subnet-1'], SecurityGroupIds: ['sg-1'] }, { Ref: 'AWS::NoValue' }] },
        },
      },
    },
    Outputs: { FunctionArn: { Value: { 'Fn::GetAtt': 'Fn.Arn' } } },
  })
  const problemsOf = (template: Json): { resource: string; path: string; rule: string }[] =>
    checkTemplate(template, db).map(({ resource, path, rule }) => ({ resource, path, rule }))

  it('finds no problem in a valid template, with resource attributes, intrinsic functions and Fn::If', () => {
    expect(checkTemplate(valid(), db).map(formatProblem)).toEqual([])
  })

  it('accepts the values CloudFormation converts: numeric strings, "true"/"false", numbers as strings', () => {
    const template = valid()
    Object.assign(template.Resources.Fn.Properties, { Timeout: '10', MemorySize: '1024', Description: 42 })
    template.Resources.Fn.Properties.SnapStart = { ApplyOn: 'None' }
    template.Resources.Bucket = { Type: 'AWS::S3::Bucket', Properties: { ObjectLockEnabled: 'true' } }
    expect(checkTemplate(template, db).map(formatProblem)).toEqual([])
  })

  it('lets an intrinsic function stand for any type', () => {
    const template = valid()
    Object.assign(template.Resources.Fn.Properties, {
      Timeout: { Ref: 'Timeout' },
      Architectures: { 'Fn::Split': [',', { Ref: 'Architectures' }] },
      Environment: { 'Fn::ImportValue': 'environment' },
    })
    expect(checkTemplate(template, db).map(formatProblem)).toEqual([])
  })

  it('finds a misspelled property', () => {
    const template = valid()
    template.Resources.Fn.Properties.MemorySizee = 1024
    expect(problemsOf(template)).toEqual([{ resource: 'Fn', path: 'Properties.MemorySizee', rule: 'unknown-property' }])
  })

  it('finds a misspelled property of a nested property type, inside an Fn::If branch', () => {
    const template = valid()
    template.Resources.Fn.Properties.VpcConfig['Fn::If'][1].SubnetIdz = ['subnet-2']
    expect(problemsOf(template)).toEqual([
      { resource: 'Fn', path: 'Properties.VpcConfig(Fn::If true).SubnetIdz', rule: 'unknown-property' },
    ])
  })

  it('finds a missing required property: a function without Role', () => {
    const template = valid()
    delete template.Resources.Fn.Properties.Role
    expect(problemsOf(template)).toEqual([{ resource: 'Fn', path: 'Properties.Role', rule: 'missing-required' }])
  })

  it('finds a missing required property of a nested type: a tag without Value', () => {
    const template = valid()
    template.Resources.Role.Properties.Tags = [{ Key: 'service' }]
    expect(problemsOf(template)).toEqual([{ resource: 'Role', path: 'Properties.Tags[0].Value', rule: 'missing-required' }])
  })

  it('finds a literal of the wrong type: Timeout "ten", a list for a string, a string for a list, a string for a nested type', () => {
    const template = valid()
    Object.assign(template.Resources.Fn.Properties, {
      Timeout: 'ten',
      Handler: ['index.handler'],
      Architectures: 'arm64',
      Code: 's3://bucket/fn.zip',
    })
    expect(problemsOf(template)).toEqual([
      { resource: 'Fn', path: 'Properties.Code', rule: 'wrong-type' },
      { resource: 'Fn', path: 'Properties.Handler', rule: 'wrong-type' },
      { resource: 'Fn', path: 'Properties.Timeout', rule: 'wrong-type' },
      { resource: 'Fn', path: 'Properties.Architectures', rule: 'wrong-type' },
    ])
    expect(checkTemplate(template, db).find((p) => p.path === 'Properties.Timeout')?.message).toBe('"ten" is not a integer')
  })

  it('finds a value outside the enumeration the specification gives', () => {
    const template = valid()
    template.Resources.Fn.Properties.PackageType = 'Tarball'
    expect(problemsOf(template)).toEqual([{ resource: 'Fn', path: 'Properties.PackageType', rule: 'allowed-value' }])
  })

  it('finds an unknown resource type, and a key that is neither Properties nor a resource attribute', () => {
    const template = valid()
    template.Resources.Fn.Type = 'AWS::Lambda::Functon'
    template.Resources.Role.Propertes = {}
    expect(problemsOf(template)).toEqual([
      { resource: 'Role', path: 'Propertes', rule: 'resource-key' },
      { resource: 'Fn', path: 'Type', rule: 'unknown-type' },
    ])
  })

  it('lets a custom resource have any property but requires its ServiceToken', () => {
    const template = valid()
    template.Resources.Seed = { Type: 'Custom::Seed', Properties: { ServiceToken: { 'Fn::GetAtt': ['Fn', 'Arn'] }, Rows: [1, 2] } }
    template.Resources.Other = { Type: 'AWS::CloudFormation::CustomResource', Properties: { Anything: true } }
    template.Outputs.Seeded = { Value: { 'Fn::GetAtt': ['Seed', 'AnyAttribute'] } }
    expect(problemsOf(template)).toEqual([{ resource: 'Other', path: 'Properties.ServiceToken', rule: 'missing-required' }])
  })

  it('finds an Fn::GetAtt, or an Fn::Sub ${Name.Attribute}, to an attribute the type lacks or to no resource', () => {
    const template = valid()
    template.Outputs.FunctionArn.Value = { 'Fn::GetAtt': ['Fn', 'FunctionArn'] }
    template.Outputs.RoleName = { Value: { 'Fn::GetAtt': 'Missing.Name' } }
    template.Resources.Fn.Properties.Environment.Variables.ARN = { 'Fn::Sub': ['${Role.Name}-${Local.Anything}', { Local: 'x' }] }
    expect(problemsOf(template)).toEqual([
      { resource: 'Fn', path: 'Fn::Sub Role.Name', rule: 'getatt-attribute' },
      { resource: 'Outputs.FunctionArn', path: 'Fn::GetAtt Fn.FunctionArn', rule: 'getatt-attribute' },
      { resource: 'Outputs.RoleName', path: 'Fn::GetAtt Missing.Name', rule: 'getatt-target' },
    ])
    expect(checkTemplate(template, db).find((p) => p.path === 'Fn::GetAtt Fn.FunctionArn')?.message).toMatch(
      /AWS::Lambda::Function has no attribute FunctionArn \(it has .*\bArn\b/,
    )
  })
})

describe('the packaged stages', () => {
  const packaged = new Map<string, PromiseSettledResult<Json>>()
  const seconds = new Map<string, number>()

  /** Two at a time (osls and esbuild are CPU-bound, on two cores); a variant that fails to package fails its own test. */
  beforeAll(async () => {
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < VARIANTS.length) {
        const variant = VARIANTS[next++] as Variant
        const started = performance.now()
        const outcome = await packageVariant(ROOT, variant).then(
          (text) => ({ status: 'fulfilled', value: JSON.parse(text) as Json }) as const,
          (reason: unknown) => ({ status: 'rejected', reason }) as const,
        )
        packaged.set(variant.name, outcome)
        seconds.set(variant.name, (performance.now() - started) / 1000)
      }
    }
    await Promise.all([worker(), worker()])
  }, 300_000)

  it.for(VARIANTS.map((variant) => variant.name))(
    'packaged %s has only types, properties, values and attributes of the resource specification',
    async (name, { annotate }) => {
      const outcome = packaged.get(name)
      if (outcome?.status !== 'fulfilled') throw outcome?.reason ?? new Error(`${name} was not packaged`)
      const inspection = inspectTemplate(outcome.value, db)
      await annotate(`${summary(inspection)}; packaged in ${seconds.get(name)?.toFixed(1)} s`)
      expect(inspection.problems.map(formatProblem)).toEqual([])
      expect(inspection.resources).toBeGreaterThan(0)
    },
  )
})

describe('infra/*.yml', () => {
  const files = readdirSync(join(ROOT, 'infra'))
    .filter((name) => /\.ya?ml$/.test(name))
    .sort()

  it('are there to check', () => {
    expect(files).toEqual(expect.arrayContaining(['database.yml', 'github-oidc-role.yml']))
  })

  it.for(files)('infra/%s has only types, properties, values and attributes of the resource specification', async (name, { annotate }) => {
    const inspection = inspectTemplate(parseCloudFormationYaml(readFileSync(join(ROOT, 'infra', name), 'utf8')), db)
    await annotate(summary(inspection))
    expect(inspection.problems.map(formatProblem)).toEqual([])
    expect(inspection.resources).toBeGreaterThan(0)
  })
})
