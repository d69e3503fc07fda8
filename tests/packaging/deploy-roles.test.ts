/**
 * infra/github-oidc-role.yml, deployed once per stage: the deploy role GitHub Actions assumes through OIDC, the
 * CloudFormation service role osls deploys through (serverless.yml provider.iam.deploymentRole), the permissions
 * boundary of every role the service's stack creates, and the deployment bucket.
 *
 * The template is deployed here on paper, for Stage=dev and Stage=prod: its intrinsic functions (!Ref, !Sub, !If,
 * !FindInMap, !GetAtt) are evaluated as CloudFormation would, and the tests read the policies that result. They prove
 * who may assume each role, that no deploy role can escalate through IAM, that secrets, parameters and bucket policies
 * stay out of reach, that API Gateway rights hold only for the stage's own tagged APIs, and that one stage's roles
 * never name the other stage's resources. Then the service is packaged for each stage (offline, every optional
 * resource on) and every resource osls's template creates must be one that stage's service role may create.
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readCloudFormationYaml } from '../support/cloudformation-yaml.js'
import type { PackagedStage } from '../support/osls-package.js'
import { packageStage } from '../support/osls-package.js'

type Json = any

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const TEMPLATE = 'infra/github-oidc-role.yml'
const PARTITION = 'aws'
const REGION = 'us-east-1'
const ACCOUNT = '123456789012'
const ORG = 'example-org'
const REPO = 'attune-auth'
const SERVICE = 'attune-auth'
const STAGES = ['dev', 'prod'] as const
type Stage = (typeof STAGES)[number]
const OTHER: Record<Stage, Stage> = { dev: 'prod', prod: 'dev' }
/** The one OIDC subject each stage's deploy role trusts: dev pushes to main, prod the jobs in the `prod` environment. */
const SUBJECT: Record<Stage, string> = {
  dev: `repo:${ORG}/${REPO}:ref:refs/heads/main`,
  prod: `repo:${ORG}/${REPO}:environment:prod`,
}
const PROVIDER = `arn:${PARTITION}:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com`

// ---------------------------------------------------------------------------------------------------------------
// The template, parsed with CloudFormation's short forms and evaluated for one stage.

function loadTemplate(): Json {
  const { template, errors } = readCloudFormationYaml(readFileSync(`${ROOT}/${TEMPLATE}`, 'utf8'))
  expect(errors).toEqual([])
  return template
}

interface Resource {
  Type: string
  Properties: Json
}
interface Stack {
  resources: Record<string, Resource>
  outputs: Record<string, Json>
}

const NO_VALUE = Symbol('AWS::NoValue')
const PSEUDO: Record<string, string> = {
  'AWS::Partition': PARTITION,
  'AWS::Region': REGION,
  'AWS::AccountId': ACCOUNT,
  'AWS::URLSuffix': 'amazonaws.com',
}

/** What CloudFormation would make of the template with these parameters: resources and outputs, fully resolved. */
function deployOnPaper(template: Json, given: Record<string, string>): Stack {
  const parameters: Record<string, string> = {}
  for (const [name, declaration] of Object.entries<Json>(template.Parameters)) {
    const value = given[name] ?? declaration.Default
    if (value === undefined) throw new Error(`parameter ${name} has no value`)
    if (declaration.AllowedValues && !declaration.AllowedValues.includes(value)) throw new Error(`${name}=${value} is not allowed`)
    if (declaration.AllowedPattern && !new RegExp(`^${declaration.AllowedPattern}$`).test(value))
      throw new Error(`${name}=${value} does not match ${declaration.AllowedPattern}`)
    parameters[name] = value
  }
  const condition = (name: string): boolean => {
    const definition = template.Conditions?.[name]
    if (definition === undefined) throw new Error(`no condition ${name}`)
    return Boolean(evaluate(definition))
  }
  const declared = (name: string): Json => {
    const resource = template.Resources[name]
    if (resource === undefined) throw new Error(`no resource ${name}`)
    if (resource.Condition !== undefined && !condition(resource.Condition)) throw new Error(`resource ${name} is not created`)
    return resource
  }
  /** A resource's `Ref`: its physical id, as CloudFormation returns it for the types this template has. */
  const ref = (name: string): string => {
    if (name in PSEUDO) return PSEUDO[name] as string
    if (name in parameters) return parameters[name] as string
    const resource = declared(name)
    const properties = evaluate(resource.Properties)
    switch (resource.Type) {
      case 'AWS::IAM::Role':
        return properties.RoleName
      case 'AWS::IAM::ManagedPolicy':
        return `arn:${PARTITION}:iam::${ACCOUNT}:policy/${properties.ManagedPolicyName}`
      case 'AWS::IAM::OIDCProvider':
        return `arn:${PARTITION}:iam::${ACCOUNT}:oidc-provider/${String(properties.Url).replace(/^https:\/\//, '')}`
      case 'AWS::S3::Bucket':
        return properties.BucketName
      default:
        throw new Error(`Ref of ${resource.Type} is not modelled here`)
    }
  }
  const getAtt = (name: string, attribute: string): string => {
    const { Type } = declared(name)
    if (attribute !== 'Arn') throw new Error(`GetAtt ${name}.${attribute} is not modelled here`)
    if (Type === 'AWS::IAM::Role') return `arn:${PARTITION}:iam::${ACCOUNT}:role/${ref(name)}`
    if (Type === 'AWS::S3::Bucket') return `arn:${PARTITION}:s3:::${ref(name)}`
    throw new Error(`GetAtt ${Type}.Arn is not modelled here`)
  }
  const sub = (text: string, variables: Record<string, Json>): string =>
    text.replace(/\$\{(!?)([^}]+)\}/g, (_, literal: string, name: string) => {
      if (literal) return `\${${name}}`
      if (name in variables) return String(evaluate(variables[name]))
      const [base, attribute] = name.split('.') as [string, string | undefined]
      return attribute === undefined ? ref(base) : getAtt(base, attribute)
    })
  const evaluate = (node: Json): Json => {
    if (Array.isArray(node)) return node.map(evaluate).filter((value) => value !== NO_VALUE)
    if (node === null || typeof node !== 'object') return node
    const keys = Object.keys(node)
    const [key] = keys
    if (keys.length === 1 && key !== undefined && (key === 'Ref' || key === 'Condition' || key.startsWith('Fn::'))) {
      const argument = node[key]
      switch (key) {
        case 'Ref':
          return argument === 'AWS::NoValue' ? NO_VALUE : ref(argument)
        case 'Condition':
          return condition(argument)
        case 'Fn::GetAtt':
          return getAtt(argument[0], argument[1])
        case 'Fn::Sub':
          return typeof argument === 'string' ? sub(argument, {}) : sub(argument[0], argument[1] ?? {})
        case 'Fn::If':
          return evaluate(condition(argument[0]) ? argument[1] : argument[2])
        case 'Fn::Equals':
          return evaluate(argument[0]) === evaluate(argument[1])
        case 'Fn::Not':
          return !evaluate(argument[0])
        case 'Fn::And':
          return argument.every((c: Json) => evaluate(c))
        case 'Fn::Or':
          return argument.some((c: Json) => evaluate(c))
        case 'Fn::FindInMap': {
          const [map, first, second] = argument.map(evaluate)
          const value = template.Mappings?.[map]?.[first]?.[second]
          if (value === undefined) throw new Error(`no mapping ${map}.${first}.${second}`)
          return value
        }
        case 'Fn::Join':
          return evaluate(argument[1]).join(argument[0])
        default:
          throw new Error(`${key} is not modelled here`)
      }
    }
    const out: Record<string, Json> = {}
    for (const [name, value] of Object.entries(node)) {
      const evaluated = evaluate(value)
      if (evaluated !== NO_VALUE) out[name] = evaluated
    }
    return out
  }
  const resources: Record<string, Resource> = {}
  for (const [name, resource] of Object.entries<Json>(template.Resources)) {
    if (resource.Condition !== undefined && !condition(resource.Condition)) continue
    resources[name] = { Type: resource.Type, Properties: evaluate(resource.Properties) }
  }
  const outputs: Record<string, Json> = {}
  for (const [name, output] of Object.entries<Json>(template.Outputs ?? {})) outputs[name] = evaluate(output.Value)
  return { resources, outputs }
}

// ---------------------------------------------------------------------------------------------------------------
// Policies, and IAM's wildcard matching.

interface Statement {
  Sid?: string
  Effect: 'Allow' | 'Deny'
  Action: string[]
  Resource: string[]
  Condition?: Record<string, Record<string, string | string[]>>
  NotAction?: unknown
  NotResource?: unknown
  Principal?: unknown
}
const normalize = (statement: Json): Statement => ({
  ...statement,
  Action: [statement.Action ?? []].flat(),
  Resource: [statement.Resource ?? []].flat(),
})
const statementsOfRole = (role: Resource): Statement[] =>
  (role.Properties.Policies ?? []).flatMap((policy: Json) => [policy.PolicyDocument.Statement].flat().map(normalize))
const statementsOfPolicy = (policy: Resource): Statement[] => [policy.Properties.PolicyDocument.Statement].flat().map(normalize)

const escapeRegExp = (text: string): string => text.replace(/[.+^${}()|[\]\\/]/g, '\\$&')
/** IAM's matching of a pattern with `*` and `?` (actions ignore case, resources do not). */
const wildcard = (pattern: string, value: string, ignoreCase = false): boolean =>
  new RegExp(
    `^${pattern
      .split('*')
      .map((part) => part.split('?').map(escapeRegExp).join('.'))
      .join('.*')}$`,
    ignoreCase ? 'i' : '',
  ).test(value)
const actionMatches = (pattern: string, action: string): boolean => wildcard(pattern, action, true)
/** Whether an action pattern could stand for some action of `service` (`*`, `iam:*`, `i*:Put*`, ...). */
const couldBeOf = (pattern: string, service: string): boolean => pattern === '*' || wildcard(pattern.split(':')[0] ?? '', service, true)
/** The Allow statements whose actions include `action`. */
const granting = (statements: Statement[], action: string): Statement[] =>
  statements.filter((s) => s.Effect === 'Allow' && s.Action.some((pattern) => actionMatches(pattern, action)))
/** Whether some Allow statement grants `action` on `arn` (conditions aside), and no unconditional Deny refuses it. */
const allows = (statements: Statement[], action: string, arn: string): boolean =>
  granting(statements, action).some((s) => s.Resource.some((pattern) => wildcard(pattern, arn))) &&
  !statements.some(
    (s) =>
      s.Effect === 'Deny' &&
      s.Condition === undefined &&
      s.Action.some((pattern) => actionMatches(pattern, action)) &&
      s.Resource.some((pattern) => wildcard(pattern, arn)),
  )

/** Every string in a tree. */
function* strings(node: Json): Generator<string> {
  if (typeof node === 'string') yield node
  else if (Array.isArray(node)) for (const child of node) yield* strings(child)
  else if (node !== null && typeof node === 'object') for (const child of Object.values(node)) yield* strings(child)
}
/** `stage` as a word of its own (`attune-auth-prod-*`, `/attune-auth/prod/`, `environment:prod`), not inside one. */
const namesStage = (text: string, stage: Stage): boolean => new RegExp(`(?<![A-Za-z0-9])${stage}(?![A-Za-z0-9])`).test(text)

// ---------------------------------------------------------------------------------------------------------------
// Each stage's stack.

const template = loadTemplate()
const stacks = Object.fromEntries(
  STAGES.map((stage) => [stage, deployOnPaper(template, { Stage: stage, GitHubOrg: ORG, GitHubRepo: REPO })]),
) as Record<Stage, Stack>

const ofType = (stack: Stack, type: string): Resource[] => Object.values(stack.resources).filter((r) => r.Type === type)
const roleNamed = (stack: Stack, name: string): Resource => {
  const role = ofType(stack, 'AWS::IAM::Role').find((r) => r.Properties.RoleName === name)
  if (role === undefined) throw new Error(`no role ${name}`)
  return role
}
const names = (stage: Stage) => ({
  githubRole: `github-deploy-${SERVICE}-${stage}`,
  cfnRole: `cfn-deploy-${SERVICE}-${stage}`,
  cfnRoleArn: `arn:${PARTITION}:iam::${ACCOUNT}:role/cfn-deploy-${SERVICE}-${stage}`,
  boundaryArn: `arn:${PARTITION}:iam::${ACCOUNT}:policy/${SERVICE}-${stage}-boundary`,
  functionRoles: `arn:${PARTITION}:iam::${ACCOUNT}:role/${SERVICE}-${stage}-*`,
  stack: `arn:${PARTITION}:cloudformation:${REGION}:${ACCOUNT}:stack/${SERVICE}-${stage}/*`,
  bucket: `${SERVICE}-deployments-${stage}-${ACCOUNT}-${REGION}`,
  artifacts: `arn:${PARTITION}:s3:::${SERVICE}-deployments-${stage}-${ACCOUNT}-${REGION}/serverless/${SERVICE}/${stage}/*`,
  authorizerArnParameter: `arn:${PARTITION}:ssm:${REGION}:${ACCOUNT}:parameter/${SERVICE}/${stage}/authorizer-arn`,
  migrate: `arn:${PARTITION}:lambda:${REGION}:${ACCOUNT}:function:${SERVICE}-${stage}-migrate`,
  parameters: `arn:${PARTITION}:ssm:${REGION}:${ACCOUNT}:parameter/${SERVICE}/${stage}/*`,
})
const policiesOf = (stage: Stage) => {
  const stack = stacks[stage]
  const { githubRole, cfnRole } = names(stage)
  const boundary = ofType(stack, 'AWS::IAM::ManagedPolicy')
  if (boundary.length !== 1) throw new Error(`stage ${stage}: ${boundary.length} managed policies, expected the boundary alone`)
  return {
    github: statementsOfRole(roleNamed(stack, githubRole)),
    cfn: statementsOfRole(roleNamed(stack, cfnRole)),
    boundary: statementsOfPolicy(boundary[0] as Resource),
  }
}

/** Bucket-level writes: a bucket's policy, ACLs, public access, ownership, encryption, existence. */
const BUCKET_WRITES = [
  's3:PutBucketPolicy',
  's3:DeleteBucketPolicy',
  's3:PutBucketAcl',
  's3:PutObjectAcl',
  's3:PutObjectVersionAcl',
  's3:PutBucketPublicAccessBlock',
  's3:PutBucketOwnershipControls',
  's3:PutEncryptionConfiguration',
  's3:CreateBucket',
  's3:DeleteBucket',
]
/** Every IAM action that creates or changes a role or its permissions. */
const ROLE_WRITES = [
  'iam:CreateRole',
  'iam:PutRolePolicy',
  'iam:DeleteRolePolicy',
  'iam:AttachRolePolicy',
  'iam:DetachRolePolicy',
  'iam:PutRolePermissionsBoundary',
]
/** What no role here may ever do: lift a boundary, rewrite a trust policy, change a managed policy. */
const ESCALATIONS = [
  'iam:DeleteRolePermissionsBoundary',
  'iam:UpdateAssumeRolePolicy',
  'iam:CreatePolicy',
  'iam:CreatePolicyVersion',
  'iam:SetDefaultPolicyVersion',
  'iam:DeletePolicyVersion',
  'iam:DeletePolicy',
  'iam:CreateUser',
  'iam:CreateAccessKey',
]
const VPC_ACCESS_POLICY = `arn:${PARTITION}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole`
const OWN_TAGS = (stage: Stage) => ({ 'aws:ResourceTag/SERVICE': SERVICE, 'aws:ResourceTag/STAGE': stage })

describe.each(STAGES)('infra/github-oidc-role.yml deployed for stage %s', (stage) => {
  const stack = stacks[stage]
  const n = names(stage)
  const { github, cfn, boundary } = policiesOf(stage)
  const all = [...github, ...cfn, ...boundary]

  describe('the GitHub deploy role', () => {
    it(`is assumable only by the repository's ${stage === 'dev' ? 'pushes to main' : 'jobs in the prod environment'}, audience sts.amazonaws.com`, () => {
      const role = roleNamed(stack, n.githubRole)
      // One statement, StringEquals on one subject: no wildcard, no other branch, environment, tag or pull request.
      expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
        {
          Sid: 'GitHubActionsOfTheStage',
          Effect: 'Allow',
          Principal: { Federated: PROVIDER },
          Action: 'sts:AssumeRoleWithWebIdentity',
          Condition: {
            StringEquals: {
              'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com',
              'token.actions.githubusercontent.com:sub': SUBJECT[stage],
            },
          },
        },
      ])
      expect(ofType(stack, 'AWS::IAM::OIDCProvider').map((p) => p.Properties)).toEqual([
        expect.objectContaining({ Url: 'https://token.actions.githubusercontent.com', ClientIdList: ['sts.amazonaws.com'] }),
      ])
    })

    it("trusts the account's existing GitHub provider when given one, and then creates none", () => {
      const existing = `arn:${PARTITION}:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com`
      const second = deployOnPaper(template, { Stage: stage, GitHubOrg: ORG, GitHubRepo: REPO, ExistingOidcProviderArn: existing })
      expect(ofType(second, 'AWS::IAM::OIDCProvider')).toEqual([])
      const [statement] = roleNamed(second, n.githubRole).Properties.AssumeRolePolicyDocument.Statement
      expect(statement.Principal).toEqual({ Federated: existing })
      expect(statement.Condition.StringEquals['token.actions.githubusercontent.com:sub']).toBe(SUBJECT[stage])
    })

    it("has no IAM action but iam:PassRole of its own stage's CloudFormation service role, to CloudFormation only", () => {
      for (const statement of github) {
        expect(statement.Effect, statement.Sid).toBe('Allow')
        expect(statement.NotAction, statement.Sid).toBeUndefined()
        expect(statement.NotResource, statement.Sid).toBeUndefined()
      }
      const iam = github.filter((s) => s.Action.some((pattern) => couldBeOf(pattern, 'iam')))
      expect(iam).toEqual([
        {
          Sid: 'PassTheStageServiceRoleToCloudFormationOnly',
          Effect: 'Allow',
          Action: ['iam:PassRole'],
          Resource: [n.cfnRoleArn],
          Condition: { StringEquals: { 'iam:PassedToService': 'cloudformation.amazonaws.com' } },
        },
      ])
      for (const action of [...ROLE_WRITES, ...ESCALATIONS]) expect(granting(github, action), action).toEqual([])
    })

    it("creates and updates its stage's stack only through that service role, and never deletes it", () => {
      for (const action of ['cloudformation:CreateStack', 'cloudformation:UpdateStack', 'cloudformation:CreateChangeSet']) {
        const statements = granting(github, action)
        expect(statements.length, action).toBeGreaterThan(0)
        for (const statement of statements) {
          expect(statement.Resource, action).toEqual([n.stack])
          expect(statement.Condition, action).toEqual({ StringEquals: { 'cloudformation:RoleArn': n.cfnRoleArn } })
        }
      }
      for (const action of ['cloudformation:DeleteStack', 'cloudformation:SetStackPolicy', 'cloudformation:ContinueUpdateRollback'])
        expect(granting(github, action), action).toEqual([])
      // Any stack action takes the stage's stack; ValidateTemplate takes no resource.
      for (const statement of github.filter((s) => s.Action.some((a) => couldBeOf(a, 'cloudformation')))) {
        if (statement.Action.every((a) => a === 'cloudformation:ValidateTemplate')) expect(statement.Resource).toEqual(['*'])
        else expect(statement.Resource, statement.Sid).toEqual([n.stack])
      }
    })

    it('reads no secret and writes no parameter: no SSM, KMS or Secrets Manager action at all', () => {
      for (const service of ['ssm', 'kms', 'secretsmanager'])
        expect(github.filter((s) => s.Action.some((a) => couldBeOf(a, service))).map((s) => s.Sid)).toEqual([])
    })

    it(`invokes only ${SERVICE}-${stage}-migrate, and changes no function itself`, () => {
      expect(granting(github, 'lambda:InvokeFunction').flatMap((s) => s.Resource)).toEqual([n.migrate])
      for (const action of [
        'lambda:UpdateFunctionCode',
        'lambda:UpdateFunctionConfiguration',
        'lambda:CreateFunction',
        'lambda:AddPermission',
      ])
        expect(granting(github, action), action).toEqual([])
    })

    it("writes only objects under its stage's prefix of its stage's deployment bucket", () => {
      expect(stack.outputs['DeploymentBucketName']).toBe(n.bucket)
      for (const action of ['s3:PutObject', 's3:DeleteObject', 's3:GetObject'])
        expect(
          granting(github, action).flatMap((s) => s.Resource),
          action,
        ).toEqual([n.artifacts])
      expect(granting(github, 's3:ListBucket').flatMap((s) => s.Resource)).toEqual([`arn:${PARTITION}:s3:::${n.bucket}`])
      const s3Actions = github.filter((s) => s.Action.some((a) => couldBeOf(a, 's3'))).flatMap((s) => s.Action)
      expect(s3Actions.sort()).toEqual(['s3:AbortMultipartUpload', 's3:DeleteObject', 's3:GetObject', 's3:ListBucket', 's3:PutObject'])
    })

    it("changes API Gateway only on its stage's own API, known by its tags SERVICE and STAGE", () => {
      for (const statement of github.filter((s) => s.Action.some((a) => couldBeOf(a, 'apigateway')))) {
        if (statement.Resource.length === 1 && statement.Resource[0] === `arn:${PARTITION}:apigateway:${REGION}::/restapis`) {
          expect(statement.Action, 'the collection: listing only (osls finds its API by name)').toEqual(['apigateway:GET'])
          continue
        }
        expect(statement.Condition?.['StringEquals'], statement.Sid).toMatchObject(OWN_TAGS(stage))
      }
      expect(granting(github, 'apigateway:PATCH').flatMap((s) => s.Resource)).toEqual([
        `arn:${PARTITION}:apigateway:${REGION}::/restapis/*/stages/${stage}`,
      ])
      for (const action of ['apigateway:POST', 'apigateway:UpdateRestApiPolicy', 'apigateway:SetWebACL'])
        expect(granting(github, action), action).toEqual([])
    })

    it("grants '*' only to actions that take no resource", () => {
      expect(github.filter((s) => s.Resource.includes('*')).flatMap((s) => s.Action)).toEqual(['cloudformation:ValidateTemplate'])
    })
  })

  describe('the CloudFormation service role', () => {
    it('is assumable by CloudFormation only', () => {
      expect(roleNamed(stack, n.cfnRole).Properties.AssumeRolePolicyDocument.Statement).toEqual([
        { Effect: 'Allow', Principal: { Service: 'cloudformation.amazonaws.com' }, Action: 'sts:AssumeRole' },
      ])
    })

    it(`creates and changes roles only named ${SERVICE}-${stage}-*, and only under the stage's permissions boundary`, () => {
      expect(stack.outputs['FunctionsBoundaryArn']).toBe(n.boundaryArn)
      for (const action of ROLE_WRITES) {
        const statements = granting(cfn, action)
        expect(statements.length, action).toBeGreaterThan(0)
        for (const statement of statements) {
          expect(statement.Resource, action).toEqual([n.functionRoles])
          expect(statement.Condition?.['StringEquals'], action).toEqual({ 'iam:PermissionsBoundary': n.boundaryArn })
        }
      }
      // And refused outright without it, whatever else this role may be granted one day.
      for (const action of ['iam:CreateRole', 'iam:PutRolePolicy', 'iam:AttachRolePolicy', 'iam:PutRolePermissionsBoundary']) {
        const denied = cfn.filter((s) => s.Effect === 'Deny' && s.Action.includes(action))
        expect(
          denied.map((s) => [s.Resource, s.Condition]),
          action,
        ).toEqual([[['*'], { StringNotEquals: { 'iam:PermissionsBoundary': n.boundaryArn } }]])
      }
    })

    it('attaches no managed policy to a role but AWSLambdaVPCAccessExecutionRole (osls, for a function in a VPC)', () => {
      for (const statement of granting(cfn, 'iam:AttachRolePolicy'))
        expect(statement.Condition?.['ArnEquals']).toEqual({ 'iam:PolicyARN': VPC_ACCESS_POLICY })
    })

    it('can never lift a boundary, rewrite a trust policy or change a managed policy: not granted, and denied', () => {
      for (const action of ESCALATIONS) {
        expect(granting(cfn, action), action).toEqual([])
        if (action === 'iam:CreateUser' || action === 'iam:CreateAccessKey') continue
        expect(
          allows([{ Effect: 'Allow', Action: ['*'], Resource: ['*'] }, ...cfn], action, n.functionRoles.replace('*', 'x')),
          action,
        ).toBe(false)
      }
    })

    it('passes roles to Lambda only, and only the functions’ roles', () => {
      expect(granting(cfn, 'iam:PassRole')).toEqual([
        expect.objectContaining({
          Resource: [n.functionRoles],
          Condition: { StringEquals: { 'iam:PassedToService': 'lambda.amazonaws.com' } },
        }),
      ])
    })

    it('has exactly these IAM rights, all on the functions’ roles: none on the deploy roles, the boundary or anything else', () => {
      const iam = cfn.filter((s) => s.Effect === 'Allow' && s.Action.some((a) => couldBeOf(a, 'iam')))
      expect(iam.flatMap((s) => s.Action).sort()).toEqual(
        [
          ...ROLE_WRITES,
          'iam:GetRole',
          'iam:GetRolePolicy',
          'iam:ListRolePolicies',
          'iam:ListAttachedRolePolicies',
          'iam:ListRoleTags',
          'iam:TagRole',
          'iam:UntagRole',
          'iam:UpdateRole',
          'iam:UpdateRoleDescription',
          'iam:DeleteRole',
          'iam:PassRole',
        ].sort(),
      )
      for (const statement of iam) expect(statement.Resource, statement.Sid).toEqual([n.functionRoles])
      // The roles and policy of this stack are outside that pattern: the service role cannot change itself,
      // the GitHub role or the boundary.
      for (const own of [n.cfnRoleArn, `arn:${PARTITION}:iam::${ACCOUNT}:role/${n.githubRole}`, n.boundaryArn])
        expect(wildcard(n.functionRoles, own), own).toBe(false)
    })

    it('invokes no function and reads no secret: SSM only on the authorizer-arn parameter the stack writes', () => {
      expect(granting(cfn, 'lambda:InvokeFunction')).toEqual([])
      expect(cfn.filter((s) => s.Action.some((a) => couldBeOf(a, 'kms') || couldBeOf(a, 'secretsmanager')))).toEqual([])
      for (const statement of cfn.filter((s) => s.Action.some((a) => couldBeOf(a, 'ssm'))))
        expect(statement.Resource, statement.Sid).toEqual([n.authorizerArnParameter])
    })

    it("creates API Gateway APIs only tagged as its stage's, and changes only APIs so tagged", () => {
      const collection = `arn:${PARTITION}:apigateway:${REGION}::/restapis`
      for (const statement of cfn.filter((s) => s.Effect === 'Allow' && s.Action.some((a) => couldBeOf(a, 'apigateway')))) {
        if (statement.Resource.includes(collection)) {
          expect(statement.Resource).toEqual([collection])
          expect(statement.Action).toEqual(['apigateway:POST'])
          expect(statement.Condition).toEqual({ StringEquals: { 'aws:RequestTag/SERVICE': SERVICE, 'aws:RequestTag/STAGE': stage } })
          continue
        }
        expect(statement.Condition?.['StringEquals'], statement.Sid).toEqual(OWN_TAGS(stage))
      }
      // Tag changes keep an API's owner: no moving one into this service or stage.
      for (const statement of granting(cfn, 'apigateway:PUT').filter((s) => s.Resource.some((r) => r.includes('/tags/'))))
        expect(statement.Condition?.['StringEqualsIfExists']).toEqual({ 'aws:RequestTag/SERVICE': SERVICE, 'aws:RequestTag/STAGE': stage })
    })

    it("grants '*' only to actions that take no resource (Lambda's VPC lookups)", () => {
      expect(cfn.filter((s) => s.Effect === 'Allow' && s.Resource.includes('*')).flatMap((s) => s.Action)).toEqual([
        'ec2:DescribeSecurityGroups',
        'ec2:DescribeSubnets',
        'ec2:DescribeVpcs',
      ])
    })
  })

  describe('the permissions boundary', () => {
    it('caps the stage’s roles at their logs, mail, the stage’s functions and parameters, IAM database auth, X-Ray and VPC network interfaces', () => {
      expect(boundary.every((s) => s.Effect === 'Allow')).toBe(true)
      expect(boundary.flatMap((s) => s.Action).sort()).toEqual(
        [
          'logs:CreateLogGroup',
          'logs:CreateLogStream',
          'logs:PutLogEvents',
          'logs:TagResource',
          'ses:SendEmail',
          'lambda:InvokeFunction',
          'ssm:GetParameter',
          'ssm:GetParameters',
          'kms:Decrypt',
          'rds-db:connect',
          'xray:PutTraceSegments',
          'xray:PutTelemetryRecords',
          'ec2:CreateNetworkInterface',
          'ec2:DescribeNetworkInterfaces',
          'ec2:DescribeSubnets',
          'ec2:DeleteNetworkInterface',
          'ec2:AssignPrivateIpAddresses',
          'ec2:UnassignPrivateIpAddresses',
        ].sort(),
      )
      expect(granting(boundary, 'lambda:InvokeFunction').flatMap((s) => s.Resource)).toEqual([
        `arn:${PARTITION}:lambda:${REGION}:${ACCOUNT}:function:${SERVICE}-${stage}-*`,
      ])
      expect(granting(boundary, 'ssm:GetParameters').flatMap((s) => s.Resource)).toEqual([n.parameters])
      expect(granting(boundary, 'logs:PutLogEvents').flatMap((s) => s.Resource)).toEqual([
        `arn:${PARTITION}:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/${SERVICE}-${stage}-*`,
        `arn:${PARTITION}:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/${SERVICE}-${stage}-*:*`,
      ])
      // The functions read their secrets at run time: nothing to write them with.
      for (const action of ['ssm:PutParameter', 'ssm:DeleteParameter', 'secretsmanager:GetSecretValue', 'iam:PassRole'])
        expect(granting(boundary, action), action).toEqual([])
    })
  })

  describe('all three policies', () => {
    it('decrypt only through SSM, and only the stage’s own parameters', () => {
      const decrypting = granting(all, 'kms:Decrypt')
      expect(decrypting.length).toBeGreaterThan(0)
      for (const statement of decrypting)
        expect(statement.Condition).toEqual({
          StringEquals: { 'kms:ViaService': `ssm.${REGION}.amazonaws.com` },
          StringLike: { 'kms:EncryptionContext:PARAMETER_ARN': n.parameters },
        })
    })

    it('write SSM parameters (ssm:PutParameter, ssm:DeleteParameter) only on the stage’s authorizer-arn parameter', () => {
      for (const action of ['ssm:PutParameter', 'ssm:DeleteParameter', 'ssm:LabelParameterVersion', 'ssm:DeleteParameters']) {
        for (const statement of granting(all, action))
          expect(statement.Resource, `${action} (${statement.Sid})`).toEqual([n.authorizerArnParameter])
      }
      expect(granting(cfn, 'ssm:PutParameter')).not.toEqual([])
    })

    it('grant no bucket-level write: no bucket policy or ACL (s3:PutBucketPolicy, s3:PutBucketAcl, ...), no new bucket', () => {
      for (const action of BUCKET_WRITES)
        expect(
          granting(all, action).map((s) => s.Sid),
          action,
        ).toEqual([])
    })

    it(`never name the ${OTHER[stage]} stage, and name the ${stage} stage wherever they name the service`, () => {
      for (const text of strings({ resources: stack.resources, outputs: stack.outputs }))
        expect(namesStage(text, OTHER[stage]), text).toBe(false)
      for (const statement of all.filter((s) => s.Effect === 'Allow'))
        for (const resource of statement.Resource)
          if (resource.includes(SERVICE)) expect(namesStage(resource, stage), `${statement.Sid}: ${resource}`).toBe(true)
    })
  })

  it('keeps the deployment bucket private: TLS only, public access blocked, ACLs disabled, encrypted', () => {
    const [bucket] = ofType(stack, 'AWS::S3::Bucket')
    expect(bucket?.Properties).toMatchObject({
      BucketName: n.bucket,
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
    })
    const [policy] = ofType(stack, 'AWS::S3::BucketPolicy')
    expect(policy?.Properties.PolicyDocument.Statement).toEqual([
      expect.objectContaining({ Effect: 'Deny', Principal: '*', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': false } } }),
    ])
  })

  it('outputs the values of the repository variables and osls params of the stage', () => {
    expect(stack.outputs).toEqual({
      GitHubDeployRoleArn: `arn:${PARTITION}:iam::${ACCOUNT}:role/${n.githubRole}`,
      CloudFormationRoleArn: n.cfnRoleArn,
      DeploymentBucketName: n.bucket,
      FunctionsBoundaryArn: n.boundaryArn,
      OidcProviderArn: PROVIDER,
    })
  })
})

// ---------------------------------------------------------------------------------------------------------------
// What osls deploys, against what each stage's service role may create.

describe.each(STAGES)('the service packaged for stage %s (every option on) against its service role', (stage) => {
  let packaged: PackagedStage
  const n = names(stage)
  const { cfn } = policiesOf(stage)

  beforeAll(async () => {
    packaged = await packageStage({
      root: ROOT,
      files: ['serverless.yml', 'package.json', 'functions', 'lib', 'infra', 'packages'],
      stage,
      parameters: {},
      params: {
        wafRateLimit: '300',
        alarmTopicArn: `arn:${PARTITION}:sns:${REGION}:${ACCOUNT}:security-alerts`,
        databaseAuth: 'iam',
        databaseConnectResource: 'prx-0123456789abcdef0/attune_api',
        migrationConnectResource: 'prx-0123456789abcdef0/attune_admin',
        accessLogs: 'true',
        tracing: 'true',
        inVpc: 'true',
        deploymentRole: n.cfnRoleArn,
        deploymentBucket: n.bucket,
      },
    })
  }, 120_000)

  afterAll(async () => {
    await packaged?.cleanup()
  })

  const arn = (service: string, resource: string, region = REGION, account = ACCOUNT): string =>
    `arn:${PARTITION}:${service}:${region}:${account}:${resource}`
  /** A name in osls's template: a string, or `Fn::Join` of strings and the region. */
  const nameOf = (value: Json): string => {
    if (typeof value === 'string') return value
    if (Array.isArray(value?.['Fn::Join'])) {
      const [separator, parts] = value['Fn::Join']
      return parts.map((part: Json) => (part?.Ref === 'AWS::Region' ? REGION : nameOf(part))).join(separator)
    }
    throw new Error(`not a name: ${JSON.stringify(value)}`)
  }
  /** The logical id a `Ref` or `Fn::GetAtt` points at. */
  const target = (value: Json): string => value?.Ref ?? value?.['Fn::GetAtt']?.[0]
  const functionArn = (logicalId: string): string =>
    arn('lambda', `function:${nameOf(packaged.resources[logicalId]?.Properties['FunctionName'])}`)
  const API = `arn:${PARTITION}:apigateway:${REGION}::/restapis/a1b2c3d4e5`

  /** What CloudFormation does for each resource of osls's template, as [action, resource ARN] pairs. */
  const needs = (logicalId: string, resource: { Type: string; Properties: Json }): [string, string][] | undefined => {
    const p = resource.Properties
    switch (resource.Type) {
      case 'AWS::Lambda::Function': {
        const role = `arn:${PARTITION}:iam::${ACCOUNT}:role/${nameOf(packaged.resources[target(p.Role)]?.Properties['RoleName'])}`
        const fn = arn('lambda', `function:${nameOf(p.FunctionName)}`)
        return [
          ['lambda:CreateFunction', fn],
          ['lambda:UpdateFunctionCode', fn],
          ['lambda:TagResource', fn],
          ['iam:PassRole', role],
          ['s3:GetObject', `arn:${PARTITION}:s3:::${n.bucket}/${p.Code.S3Key}`],
          ...(p.ReservedConcurrentExecutions === undefined ? [] : ([['lambda:PutFunctionConcurrency', fn]] as [string, string][])),
        ]
      }
      case 'AWS::Lambda::Version':
        return [['lambda:PublishVersion', functionArn(target(p.FunctionName))]]
      case 'AWS::Lambda::Permission':
        return [['lambda:AddPermission', functionArn(target(p.FunctionName))]]
      case 'AWS::Logs::LogGroup': {
        const group = arn('logs', `log-group:${nameOf(p.LogGroupName)}`)
        return [
          ['logs:CreateLogGroup', group],
          ['logs:PutRetentionPolicy', group],
          ['logs:TagResource', group],
        ]
      }
      case 'AWS::Logs::MetricFilter':
        return [
          [
            'logs:PutMetricFilter',
            arn('logs', `log-group:${nameOf(packaged.resources[target(p.LogGroupName)]?.Properties['LogGroupName'])}`),
          ],
        ]
      case 'AWS::IAM::Role': {
        const role = `arn:${PARTITION}:iam::${ACCOUNT}:role/${nameOf(p.RoleName)}`
        return [
          ['iam:CreateRole', role],
          ['iam:PutRolePolicy', role],
          ['iam:TagRole', role],
          ...(p.ManagedPolicyArns ?? []).map((): [string, string] => ['iam:AttachRolePolicy', role]),
        ]
      }
      case 'AWS::IAM::Policy':
        // An inline policy of its own (the functions' database connect right): PutRolePolicy on each role it names.
        return (p.Roles as Json[]).map((role): [string, string] => [
          'iam:PutRolePolicy',
          `arn:${PARTITION}:iam::${ACCOUNT}:role/${nameOf(packaged.resources[target(role)]?.Properties['RoleName'])}`,
        ])
      case 'AWS::Events::Rule': {
        // No Name: CloudFormation names it <stack name>-<logical id>-<random suffix>.
        const rule = arn('events', `rule/${SERVICE}-${stage}-${logicalId}-A1B2C3D4E5F6`)
        return [
          ['events:PutRule', rule],
          ['events:PutTargets', rule],
        ]
      }
      case 'AWS::SSM::Parameter':
        return [['ssm:PutParameter', arn('ssm', `parameter${nameOf(p.Name)}`)]]
      case 'AWS::CloudWatch::Alarm':
        return [['cloudwatch:PutMetricAlarm', arn('cloudwatch', `alarm:${nameOf(p.AlarmName)}`)]]
      case 'AWS::WAFv2::WebACL':
        return [['wafv2:CreateWebACL', arn('wafv2', `regional/webacl/${nameOf(p.Name)}/0a1b2c3d`)]]
      case 'AWS::WAFv2::WebACLAssociation': {
        const acl = packaged.resources[target(p.WebACLArn)]?.Properties['Name']
        const stageArn = `${API}/stages/${stage}`
        expect(p.ResourceArn['Fn::Sub']).toMatch(new RegExp(`/stages/${stage}$`))
        return [
          ['wafv2:AssociateWebACL', arn('wafv2', `regional/webacl/${nameOf(acl)}/0a1b2c3d`)],
          ['wafv2:AssociateWebACL', stageArn],
          ['apigateway:SetWebACL', stageArn],
        ]
      }
      // API Gateway's ids are random: what matters is that the role may act on the API's paths (the tag
      // conditions, which the template sets, are tested above).
      case 'AWS::ApiGateway::RestApi':
        return [['apigateway:POST', `arn:${PARTITION}:apigateway:${REGION}::/restapis`]]
      case 'AWS::ApiGateway::Resource':
        return [['apigateway:POST', `${API}/resources/f6g7h8`]]
      case 'AWS::ApiGateway::Method':
        return [['apigateway:PUT', `${API}/resources/f6g7h8/methods/${p.HttpMethod}`]]
      case 'AWS::ApiGateway::Authorizer':
        return [['apigateway:POST', `${API}/authorizers`]]
      case 'AWS::ApiGateway::Deployment':
        return [['apigateway:POST', `${API}/deployments`]]
      case 'AWS::ApiGateway::GatewayResponse':
        return [['apigateway:PUT', `${API}/gatewayresponses/${p.ResponseType}`]]
      default:
        return undefined
    }
  }

  it('asks SSM nothing at deploy time: the deploy roles need no secret', () => {
    expect(packaged.asked).toEqual([])
  })

  it(`names every function, log group, role, schedule, alarm, web ACL and parameter within the ${stage} service role's reach`, () => {
    const missing: string[] = []
    const unknown: string[] = []
    for (const [logicalId, resource] of Object.entries(packaged.resources)) {
      const required = needs(logicalId, resource)
      if (required === undefined) {
        unknown.push(`${logicalId} (${resource.Type})`)
        continue
      }
      for (const [action, resourceArn] of required) {
        if (!allows(cfn, action, resourceArn)) missing.push(`${logicalId}: ${action} on ${resourceArn}`)
        expect(namesStage(resourceArn, OTHER[stage]), resourceArn).toBe(false)
      }
    }
    expect(missing).toEqual([])
    // osls's own deployment bucket is in the template only while serverless.yml makes none of its own
    // (provider.deploymentBucket, the param deploymentBucket): the service role may not create buckets or
    // bucket policies, so a deploy through it needs the stage's bucket of infra/github-oidc-role.yml.
    expect(unknown.filter((entry) => !/^ServerlessDeploymentBucket(Policy)? \(AWS::S3::Bucket(Policy)?\)$/.test(entry))).toEqual([])
  })

  it('covers the resource types of the template, with every optional resource on', () => {
    const types = new Set(Object.values(packaged.resources).map((r) => r.Type))
    for (const type of [
      'AWS::WAFv2::WebACL',
      'AWS::CloudWatch::Alarm',
      'AWS::Logs::MetricFilter',
      'AWS::SSM::Parameter',
      'AWS::Events::Rule',
      'AWS::IAM::Policy',
    ])
      expect(types.has(type), type).toBe(true)
  })

  it('leaves the functions every right serverless.yml grants them: the boundary cuts none', () => {
    const { boundary } = policiesOf(stage)
    /** The ARNs a granted resource stands for: pseudo-parameters resolved, both sides of an `Fn::If`. */
    const concrete = (value: Json): string[] => {
      if (typeof value === 'string') return [value]
      if (Array.isArray(value)) return value.flatMap(concrete)
      if (value?.Ref === 'AWS::NoValue') return []
      if (value?.['Fn::If']) return [value['Fn::If'][1], value['Fn::If'][2]].flatMap(concrete)
      if (typeof value?.['Fn::Sub'] === 'string')
        return [value['Fn::Sub'].replace(/\$\{(AWS::[A-Za-z]+)\}/g, (_: string, name: string) => PSEUDO[name] ?? `\${${name}}`)]
      throw new Error(`not a resource: ${JSON.stringify(value)}`)
    }
    /** One name a granted pattern covers, the way the functions' names are made (`attune-auth-dev*` → `attune-auth-dev-x`). */
    const sample = (pattern: string, action: string): string =>
      pattern === '*'
        ? `arn:${PARTITION}:${action.split(':')[0]}:${REGION}:${ACCOUNT}:key/0a1b2c3d-0000-0000-0000-000000000000`
        : pattern.replace(/(?<=[A-Za-z0-9])\*/g, '-x').replace(/\*/g, 'x')
    const documents = Object.values(packaged.resources).flatMap((r): Json[] => {
      if (r.Type === 'AWS::IAM::Role') return (r.Properties['Policies'] ?? []).map((policy: Json) => policy.PolicyDocument)
      if (r.Type === 'AWS::IAM::Policy') return [r.Properties['PolicyDocument']]
      return []
    })
    const granted = documents.flatMap((document) => [document.Statement].flat()).filter((statement) => statement.Effect === 'Allow')
    expect(granted.length).toBeGreaterThan(0)
    const cut: string[] = []
    for (const statement of granted)
      for (const action of [statement.Action].flat() as string[])
        for (const resource of concrete(statement.Resource))
          if (!allows(boundary, action, sample(resource, action))) cut.push(`${action} on ${resource}`)
    expect(cut).toEqual([])
  })
})
