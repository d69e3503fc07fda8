/**
 * The bundle-size budget (docs/PERFORMANCE.md): every `functions/*.ts` is built with esbuild exactly as serverless.yml
 * builds it (infra/bundle.ts, checked against serverless.yml here) and must stay within its budget.
 * Sizes only: they are stable from run to run; times vary with the machine and stay in `npm run bench`.
 */

import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { build } from 'esbuild'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { budgetKb, bytesByPackage, functionBuildOptions, functionBundleOptions, functionEntries, ROOT } from '../../infra/bundle.js'

describe('function bundles', () => {
  it('are built with the options serverless.yml gives serverless-esbuild', () => {
    // logLevel 'error': CloudFormation's !Ref / !GetAtt tags are not YAML's business here.
    const custom = (
      parse(readFileSync(join(ROOT, 'serverless.yml'), 'utf8'), { logLevel: 'error' }) as { custom: { esbuild: Record<string, unknown> } }
    ).custom.esbuild
    const options = functionBundleOptions()
    expect({
      bundle: options.bundle,
      minify: options.minify,
      sourcemap: options.sourcemap,
      format: options.format,
      platform: options.platform,
      target: options.target,
      mainFields: options.mainFields,
      charset: options.charset,
      // serverless-esbuild passes `exclude` to esbuild as `external` (and packs nothing for it).
      exclude: options.external,
      outputFileExtension: options.outExtension?.['.js'],
      banner: options.banner,
    }).toEqual({
      bundle: custom['bundle'],
      minify: custom['minify'],
      sourcemap: custom['sourcemap'],
      format: custom['format'],
      platform: custom['platform'],
      target: custom['target'],
      mainFields: custom['mainFields'],
      charset: custom['charset'],
      exclude: custom['exclude'],
      outputFileExtension: custom['outputFileExtension'],
      banner: custom['banner'],
    })
    // Nothing else in custom.esbuild reaches esbuild unnoticed (serverless-esbuild's own keys aside).
    const known = [
      'outputWorkFolder',
      'bundle',
      'minify',
      'sourcemap',
      'format',
      'outputFileExtension',
      'platform',
      'target',
      'mainFields',
      'charset',
      'exclude',
      'banner',
    ]
    expect(Object.keys(custom).filter((key) => !known.includes(key))).toEqual([])
  })

  const entries = functionEntries()

  it('parse JSON bodies with @middy/http-json-body-parser, the parser the specification names', async () => {
    for (const name of ['register', 'login', 'refresh', 'change-password', 'logout']) {
      const entry = entries.find((f) => f.name === name)?.entry as string
      const result = await build({ ...functionBuildOptions(entry, join(ROOT, '.esbuild', 'budget')), write: false })
      expect([...bytesByPackage(result.metafile).keys()], name).toContain('@middy/http-json-body-parser')
    }
  }, 60_000)

  it('exist for every function', () => {
    expect(entries.map((f) => f.name)).toContain('authorizer')
    expect(entries.length).toBeGreaterThan(1)
  })

  it.each(entries)(
    '$name stays within its size budget',
    async ({ name, entry }) => {
      const result = await build({ ...functionBuildOptions(entry, join(ROOT, '.esbuild', 'budget')), write: false })
      const bundle = result.outputFiles?.find((file) => file.path.endsWith(`${name}.mjs`))
      expect(bundle, `no ${name}.mjs in the build output`).toBeDefined()
      const size = bundle?.contents.byteLength ?? 0
      const parts = [...bytesByPackage(result.metafile)].map(([pkg, bytes]) => `${pkg} ${(bytes / 1024).toFixed(1)} KiB`).join(', ')
      expect(
        size,
        `${name}.mjs is ${(size / 1024).toFixed(1)} KiB, budget ${budgetKb(name)} KiB (infra/bundle.ts); made of: ${parts}`,
      ).toBeLessThanOrEqual(budgetKb(name) * 1024)
    },
    60_000,
  )
})
