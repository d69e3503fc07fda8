/**
 * What API Gateway does with a request before any function runs, where serverless-offline (hapi) does
 * something else a client can see. infra/local/offline-authorizer.cjs installs it: hapi passes its server
 * to every auth scheme (`scheme(server, options)`), and serverless-offline registers our provider's scheme
 * for each route before it adds the routes or starts listening.
 *
 * 1. A path, or a method of a path, with no route. API Gateway answers its MISSING_AUTHENTICATION_TOKEN
 *    Gateway Response, which serverless.yml shapes (404 `{"error":"Not found","code":"NOT_FOUND"}`);
 *    serverless-offline's catch-all route answers a 404 of its own that lists every route
 *    (serverless-offline 14.8.2 src/events/http/HttpServer.js, create404Route). hapi would also answer
 *    HEAD with a GET route and OPTIONS with its CORS handler; API Gateway routes each method on its own.
 *    The answer is rendered from serverless.yml by offline-authorizer.ts (renderGatewayResponse: the Gateway
 *    Response of that type, else DEFAULT_4XX, else API Gateway's own), so there is one definition of it.
 * 2. Content types. The Lambda proxy integration hands the function any body with any Content-Type.
 *    serverless-offline's routes read bodies unparsed (`payload: { parse: false }`), but hapi still parses the
 *    Content-Type header first (@hapi/subtext calls @hapi/content's type() before it looks at `parse`) and
 *    answers its own 400 when it cannot: multipart without a boundary, a type without "/", a repeated
 *    charset. So while hapi reads the body, a header other than a plain `type/subtype[; charset=x]` is shown
 *    to it as application/octet-stream, and put back before the handler runs. The function's event (and our
 *    authorizer's) is built from the raw headers, which stay untouched, and the body is the same bytes; only
 *    hapi's request.mime says application/octet-stream, which serverless-offline reads to pick request
 *    templates and request schemas, none of which this service has. (Reading the body ourselves in onRequest,
 *    which hapi documents as skipping its payload step, leaves hapi waiting forever to drain a stream that
 *    has already ended.)
 */
'use strict'

/** The path of serverless-offline's catch-all route for requests no route matches. */
const CATCH_ALL_PATH = '/{p*}'
/** A Content-Type hapi surely parses: RFC 9110 tokens, at most a charset parameter, not multipart. */
const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+"
const PLAIN_MEDIA_TYPE = new RegExp(`^(?!multipart/)${TOKEN}/${TOKEN}(?:[ \\t]*;[ \\t]*charset=${TOKEN})?$`, 'i')
const STASH = 'attune-offline-gateway'

const installed = new WeakSet()

/**
 * Installs the extensions on serverless-offline's hapi server (once: the scheme is built once per route).
 * `load` imports the bundle of offline-authorizer.ts, which renders the Gateway Response.
 */
function installGateway(server, load) {
  if (installed.has(server)) return
  installed.add(server)

  // Before hapi routes the request, parses its cookies or reads its body.
  server.ext('onRequest', async (request, h) => {
    const route = apiRoute(server, request)
    if (route === undefined) return h.continue // a path hapi refuses itself (undecodable)
    if (route === null) {
      const { status, headers, body } = (await load()).renderGatewayResponse('MISSING_AUTHENTICATION_TOKEN')
      let response = h.response(body).code(status).charset(null)
      for (const [name, value] of Object.entries(headers)) response = response.header(name, value)
      return response.takeover()
    }
    const contentType = request.headers['content-type']
    if (route.settings.payload && contentType !== undefined && !PLAIN_MEDIA_TYPE.test(contentType)) {
      request.plugins[STASH] = { contentType }
      request.headers['content-type'] = 'application/octet-stream'
    }
    return h.continue
  })
  // Right after hapi has read the body (and before serverless-offline's handler looks at the header).
  server.ext('onPostAuth', (request, h) => {
    const stashed = request.plugins[STASH]
    if (stashed) request.headers['content-type'] = stashed.contentType
    return h.continue
  })
}

/** The route API Gateway would run; null when it has none (for this method); undefined for a path hapi refuses. */
function apiRoute(server, request) {
  if (!request.url || typeof request.path !== 'string' || !request.path.startsWith('/')) return undefined
  let route
  try {
    route = server.match(request.method, request.path)
  } catch {
    return undefined // server.match asserts on a path that does not decode
  }
  if (!route || route.path === CATCH_ALL_PATH) return null
  return route.method === request.method || route.method === '*' ? route : null
}

module.exports = { installGateway }
