/**
 * GET /orders (REST API) and GET /v2/orders (HTTP API) of the orders service: what another team writes
 * behind Attune Auth's authorizer. API Gateway has already run the authorizer by the time a handler is
 * called; `requireAuth` reads the user it attached to the event (REST: `requestContext.authorizer`,
 * HTTP API: `requestContext.authorizer.lambda`) or throws a 401 ApiError with a Bearer challenge.
 */
import type {
  APIGatewayProxyEvent,
  APIGatewayProxyEventV2WithLambdaAuthorizer,
  APIGatewayProxyResult,
  APIGatewayProxyStructuredResultV2,
} from 'aws-lambda'
// In your own service: copy lib/require-auth.ts and lib/errors.ts from Attune Auth and import them from
// './lib/...'. This example imports Attune Auth's own files so that there is only one copy in the repository.
import { ApiError } from '../../../lib/errors.js'
import { requireAuth } from '../../../lib/require-auth.js'

/** What the authorizer puts in an HTTP API event's `requestContext.authorizer.lambda`. */
export interface AttuneContext {
  identityId: number
  login: string
  sessionId: string
}

export interface Order {
  id: string
  item: string
  quantity: number
}

interface JsonResponse {
  statusCode: number
  headers: Record<string, string>
  body: string
}

/** A stand-in for the service's own data: every user has the same two orders. */
function ordersOf(identityId: number): Order[] {
  return [
    { id: `${identityId}-1001`, item: 'Espresso beans, 1 kg', quantity: 2 },
    { id: `${identityId}-1002`, item: 'Paper filters', quantity: 100 },
  ]
}

function listOrders(event: Parameters<typeof requireAuth>[0]): JsonResponse {
  try {
    const { identityId, login } = requireAuth(event)
    return json(200, { data: { orders: ordersOf(identityId), owner: { identityId, login } } })
  } catch (error) {
    if (error instanceof ApiError) return json(error.status, error.toBody(), error.headers)
    throw error
  }
}

function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): JsonResponse {
  return {
    statusCode,
    headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers },
    body: JSON.stringify(body),
  }
}

export const restHandler = async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => listOrders(event)

export const httpHandler = async (
  event: APIGatewayProxyEventV2WithLambdaAuthorizer<AttuneContext>,
): Promise<APIGatewayProxyStructuredResultV2> => listOrders(event)
