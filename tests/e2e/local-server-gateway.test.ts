/**
 * `npm start` where a client (or the developer at the terminal) could tell it from the deployed API:
 * - a request no route takes gets serverless.yml's MISSING_AUTHENTICATION_TOKEN Gateway Response, as on AWS;
 * - a body reaches our handler whatever its Content-Type (or Cookie header), as the Lambda proxy integration
 *   hands it over, never a refusal of the emulator's own;
 * - Ctrl-C (or SIGTERM to start.ts) stops everything it started, printing nothing but our own lines.
 * Each server gets a free port and the test run's database (tests/support/global-setup.ts).
 */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import type { LocalServer } from '../support/local-server.js'
import { startLocalServer, stopLocalServer } from '../support/local-server.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

type Server = LocalServer
const startServer = (): Promise<Server> => startLocalServer()
const stopServer = stopLocalServer

interface Answer {
  status: number
  headers: Headers
  text: string
}

async function send(url: string, method: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
  const response = await fetch(url, { method, headers, ...(body === undefined ? {} : { body }) })
  return { status: response.status, headers: response.headers, text: await response.text() }
}

/** serverless.yml's Gateway Response for a request no route takes, as the deployed API answers it. */
const missingRoute = (() => {
  const config = parse(readFileSync(`${ROOT}/serverless.yml`, 'utf8'), { logLevel: 'error' }) as {
    resources: { Resources: Record<string, { Type: string; Properties: Record<string, any> }> }
  }
  const properties = Object.values(config.resources.Resources).find(
    (r) => r.Type === 'AWS::ApiGateway::GatewayResponse' && r.Properties['ResponseType'] === 'MISSING_AUTHENTICATION_TOKEN',
  )?.Properties as Record<string, any>
  const header = (name: string): string => String(properties['ResponseParameters'][`gatewayresponse.header.${name}`]).replace(/^'|'$/g, '')
  return {
    status: Number(properties['StatusCode']),
    body: properties['ResponseTemplates']['application/json'] as string,
    contentType: header('Content-Type'),
    cacheControl: header('Cache-Control'),
  }
})()

describe('npm start answers as the deployed API Gateway does', () => {
  let server: Server | undefined

  beforeAll(async () => {
    server = await startServer()
  }, 90_000)

  afterAll(() => stopServer(server), 20_000)

  it('reads the answer to unknown routes from serverless.yml: 404 NOT_FOUND, JSON, not cacheable', () => {
    expect(missingRoute).toEqual({
      status: 404,
      body: '{"error":"Not found","code":"NOT_FOUND","reason":"route_not_found"}',
      contentType: 'application/json',
      cacheControl: 'no-store',
    })
  })

  it.each([
    ['GET', '/nope'],
    ['POST', '/auth'],
    ['GET', '/auth/login'], // a path with a route, not for this method
    ['PUT', '/auth/me'],
    ['DELETE', '/auth/sessions'],
    ['OPTIONS', '/auth/login'], // no CORS preflight on the deployed API either
  ])('answers %s %s with the MISSING_AUTHENTICATION_TOKEN Gateway Response, listing no routes', async (method, path) => {
    const answer = await send(`${server?.url}${path}`, method)
    expect({ status: answer.status, text: answer.text }).toEqual({ status: missingRoute.status, text: missingRoute.body })
    expect(answer.headers.get('content-type')).toBe(missingRoute.contentType)
    expect(answer.headers.get('cache-control')).toBe(missingRoute.cacheControl)
  })

  it('answers HEAD on a GET route with it too (API Gateway does not route HEAD to GET), and a body sent to no route', async () => {
    const head = await send(`${server?.url}/auth/me`, 'HEAD', { Authorization: 'Bearer x' })
    expect(head.status).toBe(missingRoute.status)
    const body = await send(`${server?.url}/nope`, 'POST', { 'Content-Type': 'application/json' }, '{"not json')
    expect({ status: body.status, text: body.text }).toEqual({ status: missingRoute.status, text: missingRoute.body })
  })

  it.each([
    ['multipart/form-data', 'login=x'], // no boundary: hapi's own 400 before
    ['multipart/form-data; boundary=x', 'garbage'],
    ['application/x-www-form-urlencoded', '%%%=&&='],
    ['json', '{}'], // no "/": hapi's own 400 before
    ['text/plain; charset=utf-8; charset=latin1', '{}'], // a repeated charset: hapi's own 400 before
  ])('hands a body sent as %s to the handler, which refuses it as not JSON (415)', async (contentType, body) => {
    const answer = await send(`${server?.url}/auth/login`, 'POST', { 'Content-Type': contentType }, body)
    expect({ status: answer.status, body: JSON.parse(answer.text) }).toEqual({
      status: 415,
      body: { error: 'Content-Type must be application/json', code: 'UNSUPPORTED_MEDIA_TYPE', reason: 'unsupported_media_type' },
    })
  })

  it('hands malformed JSON to the handler, which answers 400', async () => {
    const answer = await send(`${server?.url}/auth/login`, 'POST', { 'Content-Type': 'application/json' }, '{"login": ')
    expect(answer.status).toBe(400)
    expect(JSON.parse(answer.text)).toMatchObject({ code: 'BAD_REQUEST' })
  })

  it('hands the body on unchanged under a Content-Type hapi would not parse, and a malformed Cookie header too', async () => {
    // A body that reached the handler intact is validated field by field: the answer names the missing field.
    for (const headers of [
      { 'Content-Type': 'application/json; charset=utf-8; charset=utf-8' },
      { 'Content-Type': 'application/json', Cookie: 'a=b; ;;=' },
    ]) {
      const answer = await send(`${server?.url}/auth/register`, 'POST', headers, JSON.stringify({ login: 'gateway-test' }))
      expect(answer.status).toBe(400)
      expect(JSON.parse(answer.text)).toMatchObject({ code: 'BAD_REQUEST', error: expect.stringMatching(/password/) })
    }
  })
})

interface ProcessInfo {
  pid: number
  ppid: number
  pgid: number
  stat: string
  args: string
}

function processes(): ProcessInfo[] {
  return execFileSync('ps', ['-A', '-o', 'pid=,ppid=,pgid=,stat=,args='], { encoding: 'utf8' })
    .split('\n')
    .map((line) => /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\S+)\s+(.*)$/.exec(line))
    .filter((match) => match !== null)
    .map(([, pid, ppid, pgid, stat, args]) => ({ pid: Number(pid), ppid: Number(ppid), pgid: Number(pgid), stat: stat!, args: args! }))
}

/** serverless-offline's process group: osls and the esbuild services it started. */
function offlineGroup(server: Server): ProcessInfo[] {
  const all = processes()
  const descendants = new Set([server.pid])
  for (let grew = true; grew; ) {
    grew = false
    for (const p of all)
      if (descendants.has(p.ppid) && !descendants.has(p.pid)) {
        descendants.add(p.pid)
        grew = true
      }
  }
  const osls = all.find((p) => descendants.has(p.pid) && p.args.includes('osls/bin/serverless.js') && p.args.includes('offline'))
  expect(osls, 'serverless-offline among the processes of npm start').toBeDefined()
  return all.filter((p) => p.pgid === osls?.pid)
}

/** The ones still running (a zombie has exited; its parent has not collected it yet). */
function running(group: ProcessInfo[]): string[] {
  const now = new Map(processes().map((p) => [p.pid, p]))
  return group.filter((p) => now.has(p.pid) && !now.get(p.pid)?.stat.startsWith('Z')).map((p) => `${p.pid} ${p.args}`)
}

describe('stopping npm start', () => {
  let server: Server | undefined

  afterEach(() => stopServer(server), 20_000)

  it.each([
    ['Ctrl-C: SIGINT to its process group, as a terminal sends it', 'SIGINT' as const, 'group'],
    ['SIGTERM to start.ts alone', 'SIGTERM' as const, 'start.ts'],
  ])(
    '%s: stops every process it started, printing only its own lines',
    async (_, signal, target) => {
      server = await startServer()
      const me = await send(`${server.url}/auth/me`, 'GET', { Authorization: 'Bearer x' }) // the authorizer has run
      expect(me.status).toBe(401)
      const group = offlineGroup(server)
      expect(group.filter((p) => p.args.includes('esbuild')).length, 'the esbuild services under serverless-offline').toBeGreaterThan(0)

      const from = server.output.length
      if (target === 'group') process.kill(-server.pid, signal)
      else {
        const startTs = processes().find(
          (p) => p.pgid === server?.pid && p.args.includes('infra/local/start.ts') && !p.args.startsWith('sh '),
        )
        expect(startTs).toBeDefined()
        process.kill(startTs!.pid, signal)
      }
      const { code, signal: exitSignal } = await server.closed
      // Right away: an esbuild service left behind lingers until its next ping (up to a second), and may print
      // Go's "all goroutines are asleep - deadlock!" dump meanwhile.
      expect(running(group)).toEqual([])
      const after = server.output.slice(from).join('')
      expect(after).not.toMatch(/goroutine|fatal error|deadlock/i)
      expect(after.split('\n').filter((line) => line.trim() !== '')).toEqual([`[attune-auth] ${signal}: stopping`, '[attune-auth] stopped'])
      // npm ends itself with the Ctrl-C it was sent, once start.ts is done; start.ts alone exits 0.
      expect({ code, signal: exitSignal }).toEqual(target === 'group' ? { code: null, signal: 'SIGINT' } : { code: 0, signal: null })
    },
    90_000,
  )
})
