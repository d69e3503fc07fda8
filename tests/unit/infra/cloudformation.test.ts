/**
 * The CloudFormation templates of infra/: the one-time GitHub OIDC deploy role and the optional database
 * stack. They are parsed with CloudFormation's short-form intrinsic functions (!Ref, !Sub, !GetAtt, ...)
 * turned into their long forms, checked for references that point nowhere, and for what they promise:
 * a private, encrypted database whose password only Secrets Manager knows, reached through a TLS-only RDS
 * Proxy, and a role that only this repository's main branch and prod environment can assume.
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { readCloudFormationYaml } from '../../support/cloudformation-yaml.js'

const ROOT = fileURLToPath(new URL('../../..', import.meta.url))

type Json = any

interface Resource {
  Type: string
  Condition?: string
  DependsOn?: string | string[]
  DeletionPolicy?: string
  Properties: Record<string, Json>
}
interface Template {
  AWSTemplateFormatVersion: string
  Parameters: Record<string, { Type: string; Default?: unknown; NoEcho?: boolean }>
  Conditions?: Record<string, Json>
  Resources: Record<string, Resource>
  Outputs: Record<string, { Value: Json }>
}

function load(path: string): { template: Template; errors: string[] } {
  const { template, errors } = readCloudFormationYaml(readFileSync(`${ROOT}/${path}`, 'utf8'))
  return { template: template as Template, errors }
}

/** Every value in a tree, depth first. */
function* walk(node: Json): Generator<Json> {
  yield node
  if (Array.isArray(node)) for (const child of node) yield* walk(child)
  else if (node !== null && typeof node === 'object') for (const child of Object.values(node)) yield* walk(child)
}
/** Names that `Ref`, `Fn::GetAtt`, `Fn::Sub` and `Condition` name in a template. */
function references(template: Template): { refs: string[]; conditions: string[] } {
  const refs: string[] = []
  const conditions: string[] = []
  for (const node of walk({ Resources: template.Resources, Outputs: template.Outputs, Conditions: template.Conditions ?? {} })) {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) continue
    if (typeof node.Ref === 'string') refs.push(node.Ref)
    if (Array.isArray(node['Fn::GetAtt'])) refs.push(node['Fn::GetAtt'][0])
    const sub = node['Fn::Sub']
    const text = typeof sub === 'string' ? sub : Array.isArray(sub) ? sub[0] : undefined
    const vars = Array.isArray(sub) ? Object.keys(sub[1] ?? {}) : []
    for (const [, name] of (text ?? '').matchAll(/\$\{([^}!]+)\}/g)) {
      const base = name!.split('.')[0]!
      if (!vars.includes(base)) refs.push(base)
    }
    if (Array.isArray(node['Fn::If'])) conditions.push(node['Fn::If'][0])
  }
  for (const resource of Object.values(template.Resources)) if (resource.Condition) conditions.push(resource.Condition)
  return { refs, conditions }
}
const resourcesOfType = (template: Template, type: string): [string, Resource][] =>
  Object.entries(template.Resources).filter(([, r]) => r.Type === type)
function only(template: Template, type: string): Resource {
  const found = resourcesOfType(template, type)
  expect(found, type).toHaveLength(1)
  return found[0]![1]
}

const TEMPLATES = ['infra/database.yml', 'infra/github-oidc-role.yml']

describe.each(TEMPLATES)('%s', (path) => {
  const { template, errors } = load(path)

  it('parses as CloudFormation YAML with its short-form intrinsic functions', () => {
    expect(errors).toEqual([])
    expect(template.AWSTemplateFormatVersion).toBe('2010-09-09')
    expect(Object.keys(template.Resources).length).toBeGreaterThan(0)
    for (const [name, resource] of Object.entries(template.Resources)) expect(resource.Type, name).toMatch(/^AWS::\w+::\w+$/)
  })

  it('refers only to its own parameters, resources, conditions and pseudo-parameters', () => {
    const known = new Set([...Object.keys(template.Parameters), ...Object.keys(template.Resources)])
    const { refs, conditions } = references(template)
    expect(refs.length).toBeGreaterThan(0)
    for (const ref of refs) if (!ref.startsWith('AWS::')) expect(known.has(ref), ref).toBe(true)
    for (const condition of conditions) expect(Object.keys(template.Conditions ?? {})).toContain(condition)
    for (const [name, resource] of Object.entries(template.Resources))
      for (const dependency of [resource.DependsOn ?? []].flat()) expect(template.Resources[dependency], `${name} DependsOn`).toBeDefined()
  })

  it('has no secret among its parameters', () => {
    for (const name of Object.keys(template.Parameters)) expect(name).not.toMatch(/password|secret|key$/i)
  })
})

describe('infra/database.yml', () => {
  const { template } = load('infra/database.yml')
  const cluster = only(template, 'AWS::RDS::DBCluster')
  const proxy = only(template, 'AWS::RDS::DBProxy')
  const clusterName = resourcesOfType(template, 'AWS::RDS::DBCluster')[0]![0]
  const secretOfCluster = { 'Fn::GetAtt': [clusterName, 'MasterUserSecret.SecretArn'] }

  it('runs Aurora PostgreSQL Serverless v2, encrypted, kept on deletion', () => {
    expect(cluster.Properties['Engine']).toBe('aurora-postgresql')
    expect(cluster.Properties['ServerlessV2ScalingConfiguration']).toBeDefined()
    expect(cluster.Properties['StorageEncrypted']).toBe(true)
    expect(cluster.Properties['DeletionProtection']).toBe(true)
    expect(cluster.DeletionPolicy).toBe('Snapshot')
  })

  it('lets Secrets Manager manage the master password: no password in the template or its parameters', () => {
    expect(cluster.Properties['ManageMasterUserPassword']).toBe(true)
    expect(cluster.Properties).not.toHaveProperty('MasterUserPassword')
    for (const [name, resource] of Object.entries(template.Resources))
      expect(resource.Properties, name).not.toHaveProperty('MasterUserPassword')
  })

  it('has no publicly accessible database instance', () => {
    const instances = resourcesOfType(template, 'AWS::RDS::DBInstance')
    expect(instances.length).toBeGreaterThan(0)
    for (const [name, instance] of instances) {
      expect(instance.Properties['PubliclyAccessible'], name).toBe(false)
      expect(instance.Properties['DBClusterIdentifier'], name).toEqual({ Ref: clusterName })
    }
  })

  it('signs in with IAM end to end: the cluster accepts IAM tokens, the proxy requires TLS and attaches no secret', () => {
    expect(cluster.Properties['EnableIAMDatabaseAuthentication']).toBe(true)
    expect(cluster.Properties['EnableHttpEndpoint']).toBe(true)
    expect(proxy.Properties['EngineFamily']).toBe('POSTGRESQL')
    expect(proxy.Properties['RequireTLS']).toBe(true)
    expect(proxy.Properties['DefaultAuthScheme']).toBe('IAM_AUTH')
    expect(proxy.Properties).not.toHaveProperty('Auth')
    const targets = only(template, 'AWS::RDS::DBProxyTargetGroup')
    expect(targets.Properties['DBClusterIdentifiers']).toEqual([{ Ref: clusterName }])
    expect([targets.DependsOn ?? []].flat()).toEqual(
      expect.arrayContaining(resourcesOfType(template, 'AWS::RDS::DBInstance').map(([n]) => n)),
    )
  })

  it('lets the proxy connect to this cluster only, and read no secret', () => {
    const [, role] = resourcesOfType(template, 'AWS::IAM::Role').find(([name]) => proxy.Properties['RoleArn']['Fn::GetAtt'][0] === name)!
    const statements = role.Properties['Policies'].flatMap((p: Json) => p.PolicyDocument.Statement)
    expect(statements).toEqual([
      {
        Effect: 'Allow',
        Action: 'rds-db:connect',
        Resource: {
          'Fn::Sub': `arn:\${AWS::Partition}:rds-db:\${AWS::Region}:\${AWS::AccountId}:dbuser:\${${clusterName}.DBClusterResourceId}/*`,
        },
      },
    ])
    expect(role.Properties['AssumeRolePolicyDocument'].Statement[0].Principal).toEqual({ Service: 'rds.amazonaws.com' })
  })

  it('chains security groups on port 5432: Lambda SG to proxy SG to database SG, nothing else inbound', () => {
    const groups = Object.fromEntries(resourcesOfType(template, 'AWS::EC2::SecurityGroup'))
    const lambda = groups['LambdaSecurityGroup']
    const proxyGroup = groups['ProxySecurityGroup']
    const db = groups['DatabaseSecurityGroup']
    expect(lambda?.Properties['SecurityGroupIngress']).toBeUndefined()
    expect(proxyGroup?.Properties['SecurityGroupIngress']).toEqual([
      expect.objectContaining({ IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432, SourceSecurityGroupId: { Ref: 'LambdaSecurityGroup' } }),
    ])
    expect(db?.Properties['SecurityGroupIngress']).toEqual([
      expect.objectContaining({ IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432, SourceSecurityGroupId: { Ref: 'ProxySecurityGroup' } }),
    ])
    expect(resourcesOfType(template, 'AWS::EC2::SecurityGroupIngress')).toEqual([])
    expect(proxy.Properties['VpcSecurityGroupIds']).toEqual([{ Ref: 'ProxySecurityGroup' }])
    expect(cluster.Properties['VpcSecurityGroupIds']).toEqual([{ Ref: 'DatabaseSecurityGroup' }])
  })

  it('takes an existing VPC and its subnets as parameters', () => {
    expect(template.Parameters['VpcId']?.Type).toBe('AWS::EC2::VPC::Id')
    expect(template.Parameters['SubnetIds']?.Type).toBe('List<AWS::EC2::Subnet::Id>')
  })

  it('outputs what DATABASE_URL and the functions VPC settings need', () => {
    expect(template.Outputs['ProxyEndpoint']?.Value).toEqual({
      'Fn::GetAtt': [resourcesOfType(template, 'AWS::RDS::DBProxy')[0]![0], 'Endpoint'],
    })
    expect(template.Outputs['LambdaSecurityGroupId']?.Value).toEqual({ Ref: 'LambdaSecurityGroup' })
    expect(template.Outputs['SubnetIds']?.Value).toEqual({ 'Fn::Join': [',', { Ref: 'SubnetIds' }] })
    expect(template.Outputs['MasterSecretArn']?.Value).toEqual(secretOfCluster)
    // What the service's params databaseConnectResource and migrationConnectResource take: the proxy's id and a user.
    expect(JSON.stringify(template.Outputs['DatabaseConnectResource']?.Value)).toContain('/attune_login')
    expect(JSON.stringify(template.Outputs['MigrationConnectResource']?.Value)).toContain('/${MasterUsername}')
  })
})
