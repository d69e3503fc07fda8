/**
 * GET /orders (REST API) and GET /v2/orders (HTTP API) of the orders service: what another team writes
 * behind Attune Auth's authorizer. API Gateway has already run the authorizer by the time a handler is
 * called; `requireAuth` reads the user it attached to the event (REST: `requestContext.authorizer`,
 * HTTP API: `requestContext.authorizer.lambda`) or throws a 401 ApiError with a Bearer challenge.
 */
import type { AuthenticatedUser } from '@attune-auth/client'
import { ApiError, requireAuth } from '@attune-auth/client'
import type {
  APIGatewayProxyEvent,
  APIGatewayProxyEventV2WithLambdaAuthorizer,
  APIGatewayProxyResult,
  APIGatewayProxyStructuredResultV2,
} from 'aws-lambda'

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

/** The authorizer's context, in `requestContext.authorizer.lambda`, is the caller as `requireAuth` returns it. */
export const httpHandler = async (
  event: APIGatewayProxyEventV2WithLambdaAuthorizer<AuthenticatedUser>,
): Promise<APIGatewayProxyStructuredResultV2> => listOrders(event)
