import { describe, expect, it } from 'vitest'
import { createVerifiedTokenCache } from '../../../../lib/tokens/verified-tokens.js'

const T0 = Date.UTC(2026, 10, 29, 12, 0, 0)

function cacheAt(maxEntries = 3) {
  const clock = { now: T0 }
  const cache = createVerifiedTokenCache<{ login: string }>({ maxEntries, now: () => clock.now })
  return { cache, clock }
}

describe('verified-token cache', () => {
  it('answers a remembered token with its claims until the given instant, and not at that instant', () => {
    const { cache, clock } = cacheAt()
    cache.set('token-a', { login: 'alice' }, T0 + 1000)
    expect(cache.get('token-a')).toEqual({ login: 'alice' })
    clock.now = T0 + 999
    expect(cache.get('token-a')).toEqual({ login: 'alice' })
    clock.now = T0 + 1000
    expect(cache.get('token-a')).toBeUndefined()
  })

  it('forgets an expired entry when it is looked up', () => {
    const { cache, clock } = cacheAt()
    cache.set('token-a', { login: 'alice' }, T0 + 1000)
    clock.now = T0 + 1000
    cache.get('token-a')
    expect(cache.size).toBe(0)
  })

  it('does not remember a token whose end has already passed', () => {
    const { cache } = cacheAt()
    cache.set('token-a', { login: 'alice' }, T0)
    expect(cache.size).toBe(0)
    expect(cache.get('token-a')).toBeUndefined()
  })

  it('answers only the exact token: a token differing in one character is a miss', () => {
    const { cache } = cacheAt()
    cache.set('header.payload.signature', { login: 'alice' }, T0 + 1000)
    expect(cache.get('header.payload.signaturf')).toBeUndefined()
    expect(cache.get('header.payload.signature ')).toBeUndefined()
    expect(cache.get('Header.payload.signature')).toBeUndefined()
  })

  it('keeps at most maxEntries, dropping the least recently used first', () => {
    const { cache } = cacheAt(3)
    cache.set('a', { login: 'a' }, T0 + 1000)
    cache.set('b', { login: 'b' }, T0 + 1000)
    cache.set('c', { login: 'c' }, T0 + 1000)
    expect(cache.get('a')).toEqual({ login: 'a' }) // a is now the most recently used
    cache.set('d', { login: 'd' }, T0 + 1000)
    expect(cache.size).toBe(3)
    expect(cache.get('b')).toBeUndefined()
    expect([cache.get('a'), cache.get('c'), cache.get('d')]).toEqual([{ login: 'a' }, { login: 'c' }, { login: 'd' }])
  })

  it('stays within its bound under many distinct tokens', () => {
    const { cache } = cacheAt(100)
    for (let i = 0; i < 10_000; i++) cache.set(`token-${i}`, { login: String(i) }, T0 + 1000)
    expect(cache.size).toBe(100)
    expect(cache.get('token-9999')).toEqual({ login: '9999' })
    expect(cache.get('token-0')).toBeUndefined()
  })

  it('is off with maxEntries 0: nothing is remembered', () => {
    const { cache } = cacheAt(0)
    cache.set('a', { login: 'a' }, T0 + 1000)
    expect(cache.size).toBe(0)
    expect(cache.get('a')).toBeUndefined()
  })
})
