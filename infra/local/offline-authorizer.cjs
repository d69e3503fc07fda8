/**
 * The module serverless-offline loads for `custom.offline.customAuthenticationProvider`.
 *
 * Contract (serverless-offline 14, src/events/http/HttpServer.js): it is require()d from the service
 * folder and called once per route as `provider(endpoint, functionKey, method, path)`; it returns
 * `{ name, scheme, getAuthenticateFunction }`, registered as a hapi auth scheme and strategy, so both
 * names must be unique per route. The scheme's `authenticate(request, h)` runs for every request of the
 * route, public ones included.
 *
 * The logic lives in offline-authorizer.ts (TypeScript, importing our real authorizer). require() cannot
 * load it, so it is bundled here with esbuild (a dev dependency, about 0.1 s) when serverless-offline starts,
 * and the bundle is imported on the first request. Dependencies stay external and resolve from
 * node_modules, which is why the bundle is written inside the project (.build/offline-authorizer/,
 * git-ignored); our workspace packages (@attune-auth/client) are TypeScript source, which Node cannot
 * import, so they are bundled like the project's own files.
 */
'use strict'

const { buildSync } = require('esbuild')
const { createHash } = require('node:crypto')
const { existsSync, mkdirSync, renameSync, writeFileSync } = require('node:fs')
const { join } = require('node:path')
const { pathToFileURL } = require('node:url')
const { installGateway } = require('./offline-gateway.cjs')

// Every dependency of package.json stays external, with its subpaths (as `packages: 'external'` would), but for
// our workspace packages (`@attune-auth/...`).
const manifest = require('../../package.json')
const external = Object.keys({ ...manifest.dependencies, ...manifest.devDependencies }).filter((name) => !name.startsWith('@attune-auth/'))

const [bundle] = buildSync({
  entryPoints: [join(__dirname, 'offline-authorizer.ts')],
  bundle: true,
  external,
  format: 'esm',
  platform: 'node',
  target: 'node24',
  logLevel: 'warning',
  write: false,
}).outputFiles

// Named by content and written atomically: several serverless-offline processes (npm start, e2e tests)
// may start at once and must never import a half-written file. Two folders below the project, as the source
// is: offline-authorizer.ts finds serverless.yml by a path relative to itself.
const folder = join(__dirname, '..', '..', '.build', 'offline-authorizer')
const outfile = join(folder, `${createHash('sha256').update(bundle.contents).digest('hex').slice(0, 16)}.mjs`)
if (!existsSync(outfile)) {
  mkdirSync(folder, { recursive: true })
  const temporary = `${outfile}.${process.pid}.tmp`
  writeFileSync(temporary, bundle.contents)
  renameSync(temporary, outfile)
}

/** @type {Promise<typeof import('./offline-authorizer.ts')> | undefined} */
let loaded
const load = () => {
  loaded ??= import(pathToFileURL(outfile).href)
  return loaded
}

module.exports = function attuneAuthenticationProvider(endpoint, functionKey, method, path) {
  const name = `attune-auth:${functionKey}:${method}:${path}`
  return {
    name,
    scheme: name,
    // hapi calls the scheme with its server, before serverless-offline adds the routes: the one place we
    // reach that server, to answer unknown routes and pass bodies on as API Gateway does (offline-gateway.cjs).
    getAuthenticateFunction: (server) => {
      installGateway(server, load)
      return {
        authenticate: async (request, h) => (await load()).authenticate(endpoint, request, h),
      }
    },
  }
}
