/** HTTP header names are case-insensitive; API Gateway passes them as the client sent them (REST) or lower-cased (HTTP API). */
export function headerValue(headers: Readonly<Record<string, string | undefined>> | null | undefined, name: string): string | undefined {
  const all = headers ?? {}
  const wanted = name.toLowerCase()
  const direct = all[wanted]
  if (direct !== undefined) return direct
  for (const [key, value] of Object.entries(all)) if (key.toLowerCase() === wanted) return value
  return undefined
}
