/**
 * The test tiers of vitest.config.ts: every test file runs in exactly one project (a file that no project
 * includes would never run, in `npm test` or anywhere), and the unit tier has no database.
 */
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import type { TestProjectInlineConfiguration } from 'vitest/config'
import config from '../../vitest.config.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

const projects = (config.test?.projects ?? []) as TestProjectInlineConfiguration[]

/** Every `*.test.ts` under tests/ and examples/, relative to the repository, outside node_modules. */
function testFiles(): string[] {
  return ['tests', 'examples'].flatMap((dir) =>
    readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
      .map((path) => `${dir}/${path.split('\\').join('/')}`)
      .filter((path) => path.endsWith('.test.ts') && !path.split('/').includes('node_modules')),
  )
}

/** The glob forms the config uses: `**` (any folders), `*` (part of a name). */
function glob(pattern: string): RegExp {
  let source = ''
  for (let i = 0; i < pattern.length; i++) {
    if (pattern.startsWith('**/', i)) {
      source += '(?:.*/)?'
      i += 2
    } else if (pattern.startsWith('/**', i) && i + 3 === pattern.length) {
      source += '(?:/.*)?'
      i += 2
    } else if (pattern[i] === '*') source += '[^/]*'
    else source += (pattern[i] as string).replace(/[.+?^${}()|[\]\\]/g, '\\$&')
  }
  return new RegExp(`^${source}$`)
}

function projectsRunning(file: string): string[] {
  return projects
    .filter(({ test = {} }) => {
      const included = (test.include ?? []).some((pattern) => glob(pattern).test(file))
      const excluded = (test.exclude ?? []).some((pattern) => glob(pattern).test(file))
      return included && !excluded
    })
    .map(({ test }) => test?.name as string)
}

describe('vitest.config.ts', () => {
  it('has the four tiers: unit, integration, packaging, e2e', () => {
    expect(projects.map(({ test }) => test?.name)).toEqual(['unit', 'integration', 'packaging', 'e2e'])
  })

  it('runs every test file in exactly one project, but the runtime proofs, which have a config of their own', () => {
    // tests/runtime: npm run test:runtime and .ci/run step 6 (tests/runtime/vitest.config.ts), never npm test.
    const files = testFiles().filter((file) => !file.startsWith('tests/runtime/'))
    expect(files.length).toBeGreaterThan(40)
    expect(files.map((file) => ({ file, projects: projectsRunning(file) })).filter(({ projects }) => projects.length !== 1)).toEqual([])
    expect(
      testFiles()
        .filter((file) => file.startsWith('tests/runtime/'))
        .map(projectsRunning),
    ).toEqual([[]])
    // The ones whose tier is not their folder's.
    expect(projectsRunning('examples/orders-service/orders.test.ts')).toEqual(['integration'])
    expect(projectsRunning('examples/orders-service/package.test.ts')).toEqual(['packaging'])
  })

  it('starts no database for the unit tier, and gives it a DATABASE_URL that is never connected to', () => {
    const unit = projects.find(({ test }) => test?.name === 'unit')?.test
    expect(unit?.globalSetup ?? []).toEqual([])
    expect(unit?.setupFiles).toContain('tests/support/no-database.ts')
    expect(new URL(process.env['DATABASE_URL'] as string).port).toBe('1')
  })
})
