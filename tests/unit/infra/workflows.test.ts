/**
 * The GitHub Actions workflows (.github/workflows): validated offline against SchemaStore's JSON schema for
 * GitHub workflows with @action-validator/core (action-validator compiled to WebAssembly; it also checks
 * that the globs of `paths` filters match files), then checked for
 * what they promise: CI tests and packages every pull request; a push to main deploys dev then prod
 * (prod behind the protected `prod` environment), assuming the deploy role through OIDC with no stored
 * AWS keys, and applies the migrations after each deploy.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { validateWorkflow } from '@action-validator/core'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'

const ROOT = fileURLToPath(new URL('../../..', import.meta.url))
const GITHUB = join(ROOT, '.github')
const WORKFLOWS = join(GITHUB, 'workflows')

interface Step {
  name?: string
  uses?: string
  run?: string
  with?: Record<string, unknown>
}
interface Job {
  needs?: string | string[]
  if?: string
  environment?: string | { name: string }
  permissions?: Record<string, string> | string
  env?: Record<string, string>
  concurrency?: { group: string; 'cancel-in-progress'?: boolean }
  steps: Step[]
}
interface Workflow {
  on: Record<string, any>
  permissions?: Record<string, string>
  concurrency?: { group: string }
  jobs: Record<string, Job>
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [join(dir, entry.name)],
  )
}
const workflowFiles = readdirSync(WORKFLOWS).filter((name) => /\.ya?ml$/.test(name))
const source = (name: string): string => readFileSync(join(WORKFLOWS, name), 'utf8')
const load = (name: string): Workflow => parse(source(name)) as Workflow

const ci = load('ci.yml')
const deploy = load('deploy.yml')

/** A job's shell commands, with `$STAGE` / `"$STAGE"` replaced by the job's STAGE. */
function commands(job: Job): string[] {
  const stage = job.env?.['STAGE'] ?? '$STAGE'
  return job.steps.flatMap((step) => (step.run === undefined ? [] : [step.run.replaceAll('"$STAGE"', stage).replaceAll('$STAGE', stage)]))
}
/** Index of the first step whose `run` (after stage substitution) or `uses` matches. */
function stepIndex(job: Job, match: RegExp): number {
  const stage = job.env?.['STAGE'] ?? '$STAGE'
  return job.steps.findIndex((step) => {
    const text = step.run === undefined ? (step.uses ?? '') : step.run.replaceAll('"$STAGE"', stage).replaceAll('$STAGE', stage)
    return match.test(text)
  })
}
function job(workflow: Workflow, id: string): Job {
  const found = workflow.jobs[id]
  if (found === undefined) throw new Error(`no job ${id}`)
  return found
}
const environmentName = (j: Job): string | undefined => (typeof j.environment === 'object' ? j.environment.name : j.environment)

describe('workflow files', () => {
  it('has the CI and deploy workflows', () => {
    expect(workflowFiles.sort()).toEqual(expect.arrayContaining(['ci.yml', 'deploy.yml']))
  })

  it.each(workflowFiles)('%s is valid against the GitHub workflow schema', (name) => {
    expect(validateWorkflow(source(name)).errors).toEqual([])
  })

  it('the validator refuses a workflow with a misspelt key or permission', () => {
    const content =
      'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    permissions:\n      id-token: writ\n    stepz:\n      - run: echo\n'
    expect(validateWorkflow(content).errors.length).toBeGreaterThan(0)
  })

  it.each(workflowFiles)('%s pins every action it uses to a commit, the version it is named beside it', (name) => {
    const uses = Object.values(load(name).jobs).flatMap((j) => j.steps.flatMap((s) => (s.uses === undefined ? [] : [s.uses])))
    expect(uses.length).toBeGreaterThan(0)
    // A tag can be moved by whoever controls the action's repository; a commit cannot.
    for (const action of uses) expect(action).toMatch(/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/)
    const lines = readFileSync(join(WORKFLOWS, name), 'utf8')
      .split('\n')
      .filter((line) => /^\s*(- )?uses:/.test(line))
    for (const line of lines) expect(line).toMatch(/@[0-9a-f]{40} # v\d+\.\d+\.\d+$/)
  })

  it('no file under .github holds AWS access keys or reads secrets', () => {
    for (const file of filesUnder(GITHUB)) {
      const text = readFileSync(file, 'utf8')
      const where = relative(ROOT, file)
      expect(text, where).not.toMatch(/aws-access-key-id|aws-secret-access-key|AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|aws-session-token/i)
      expect(text, where).not.toMatch(/\$\{\{\s*secrets\./)
      expect(text, where).not.toMatch(/AKIA[0-9A-Z]{16}/)
    }
  })
})

describe('ci.yml', () => {
  const test = job(ci, 'test')

  it('runs on pull requests and on pushes', () => {
    expect(Object.keys(ci.on)).toEqual(expect.arrayContaining(['pull_request', 'push']))
  })

  it("installs with npm ci on .nvmrc's Node with the npm cache, then runs npm test and npm run package", () => {
    const setupNode = test.steps.find((s) => s.uses?.startsWith('actions/setup-node@'))
    expect(setupNode?.with).toMatchObject({ 'node-version-file': '.nvmrc', cache: 'npm' })
    expect(test.steps.some((s) => s.uses?.startsWith('actions/checkout@'))).toBe(true)
    const install = stepIndex(test, /^npm ci$/)
    const npmTest = stepIndex(test, /^npm test$/)
    const pack = stepIndex(test, /^npm run package$/)
    expect(install).toBeGreaterThanOrEqual(0)
    expect(npmTest).toBeGreaterThan(install)
    expect(pack).toBeGreaterThan(install)
  })

  it('only reads the repository and cancels superseded runs of the same ref', () => {
    expect(ci.permissions).toEqual({ contents: 'read' })
    expect(ci.concurrency?.group).toContain('github.ref')
  })
})

describe('deploy.yml', () => {
  const dev = job(deploy, 'dev')
  const prod = job(deploy, 'prod')

  it('runs on pushes to main and by hand with a stage input', () => {
    expect(deploy.on['push']).toEqual({ branches: ['main'] })
    expect(deploy.on['workflow_dispatch'].inputs.stage.options).toEqual(['dev', 'prod'])
  })

  it('deploys dev first, then prod in the protected prod environment after dev', () => {
    expect(dev.env?.['STAGE']).toBe('dev')
    expect(prod.env?.['STAGE']).toBe('prod')
    expect(prod.needs === 'dev' || (Array.isArray(prod.needs) && prod.needs.includes('dev'))).toBe(true)
    expect(environmentName(prod)).toBe('prod')
  })

  it('runs jobs only where the role trusts their OIDC subject: dev on main without an environment, prod in environment prod', () => {
    // A job in an environment gets the subject `environment:<name>`; the role trusts `ref:refs/heads/main`
    // and `environment:prod` only (infra/github-oidc-role.yml).
    expect(environmentName(dev)).toBeUndefined()
    expect(dev.if).toContain("github.ref == 'refs/heads/main'")
    expect(prod.if).toContain("github.ref == 'refs/heads/main'")
  })

  it('never deploys prod from a manual run that asked for dev', () => {
    expect(prod.if).toContain("inputs.stage == 'prod'")
    expect(prod.if).toContain("github.event_name == 'push'")
  })

  it('grants the workflow only read access by default', () => {
    expect(deploy.permissions).toEqual({ contents: 'read' })
  })

  it('queues deploys per stage, never cancelling one: a prod deploy waiting for its reviewers does not hold dev', () => {
    expect(deploy.concurrency).toBeUndefined()
    expect(dev.concurrency).toEqual({ group: 'deploy-dev', 'cancel-in-progress': false })
    expect(prod.concurrency).toEqual({ group: 'deploy-prod', 'cancel-in-progress': false })
  })

  describe.each([
    ['dev', dev],
    ['prod', prod],
  ] as const)('job %s', (stage, j) => {
    it('may request an OIDC token and read the repository, nothing else', () => {
      expect(j.permissions).toEqual({ 'id-token': 'write', contents: 'read' })
    })

    it('assumes its own stage’s deploy role from the repository variables through OIDC', () => {
      const credentials = j.steps.filter((s) => s.uses?.startsWith('aws-actions/configure-aws-credentials@'))
      expect(credentials).toHaveLength(1)
      expect(credentials[0]?.uses).toMatch(/^aws-actions\/configure-aws-credentials@[0-9a-f]{40}$/)
      expect(credentials[0]?.with).toMatchObject({
        'role-to-assume': `\${{ vars.AWS_DEPLOY_ROLE_ARN_${stage.toUpperCase()} }}`,
        'aws-region': '${{ vars.AWS_REGION }}',
      })
      for (const key of Object.keys(credentials[0]?.with ?? {})) expect(key).not.toMatch(/access-key|secret|session-token/)
    })

    it('installs and tests before deploying', () => {
      const install = stepIndex(j, /^npm ci$/)
      const npmTest = stepIndex(j, /^npm test$/)
      const deployStep = stepIndex(j, /npx osls deploy/)
      expect(install).toBeGreaterThanOrEqual(0)
      expect(npmTest).toBeGreaterThan(install)
      expect(deployStep).toBeGreaterThan(npmTest)
    })

    it(`deploys stage ${stage} to the region of the repository variable, through its CloudFormation role and bucket`, () => {
      const deployCommands = commands(j).filter((c) => c.includes('osls deploy'))
      expect(deployCommands).toEqual([
        `npx osls deploy --stage ${stage} --region "\${{ vars.AWS_REGION }}" --param "deploymentRole=$CFN_ROLE_ARN" --param "deploymentBucket=$DEPLOYMENT_BUCKET"`,
      ])
      expect(stepIndex(j, /npx osls deploy/)).toBeGreaterThan(stepIndex(j, /^aws-actions\/configure-aws-credentials@/))
    })

    it('migrates after the deploy with infra/invoke-migrate.ts (one attempt, waits longer than the function), not osls invoke', () => {
      const migrate = stepIndex(j, /^npm run migrate:invoke /)
      expect(migrate).toBeGreaterThan(stepIndex(j, /npx osls deploy/))
      expect(commands(j)).toContain(`npm run migrate:invoke -- --stage ${stage} --region "\${{ vars.AWS_REGION }}"`)
      expect(commands(j).filter((c) => c.includes('osls invoke'))).toEqual([])
    })
  })
})

describe('one Node version: the Lambda runtime of serverless.yml', () => {
  const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8')
  const serverless = parse(read('serverless.yml'), { logLevel: 'error' }) as {
    provider: { runtime: string }
    custom: { esbuild: { target: string } }
  }
  const major = /^nodejs(\d+)\.x$/.exec(serverless.provider.runtime)?.[1] as string
  const packageJson = JSON.parse(read('package.json')) as { engines: { node: string }; devDependencies: Record<string, string> }

  it('is what newcomers, npm and TypeScript are given: .nvmrc, engines, @types/node', () => {
    expect(major).toMatch(/^\d+$/)
    expect(read('.nvmrc').trim()).toBe(major)
    expect(packageJson.engines.node).toBe(`>=${major}`)
    expect(packageJson.devDependencies['@types/node']).toMatch(new RegExp(`^${major}\\.`))
  })

  it('is what every workflow sets up (through .nvmrc) and what .ci/run tests first (read from serverless.yml)', () => {
    const setups = [ci, deploy].flatMap((w) =>
      Object.values(w.jobs).flatMap((j) => j.steps.filter((s) => s.uses?.startsWith('actions/setup-node@'))),
    )
    expect(setups.length).toBeGreaterThan(0)
    for (const step of setups) expect(step.with).toMatchObject({ 'node-version-file': '.nvmrc' })
    expect(read('.ci/run')).toContain('RUNTIME_NODE="$(sed -n \'s/^ *runtime: nodejs')
  })

  it('is the target of every esbuild build: the functions (serverless.yml, infra/bundle.ts) and the offline authorizer', () => {
    expect(serverless.custom.esbuild.target).toBe(`node${major}`)
    for (const file of ['infra/bundle.ts', 'infra/local/offline-authorizer.cjs']) {
      expect(
        [...read(file).matchAll(/target: '(node\d+)'/g)].map((m) => m[1]),
        file,
      ).toEqual([`node${major}`])
    }
  })
})
