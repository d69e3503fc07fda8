import { describe, expect, it } from 'vitest'
import {
  apiKeyDisplay,
  apiKeyEnvironmentOf,
  apiKeyHash,
  checkApiKey,
  looksLikeApiKey,
  mintApiKey,
  newApiKey,
} from '../../../../lib/keys/api-key.js'

describe('API key text', () => {
  it('is the environment prefix, 43 base62 characters of 256 random bits, and a 6-character checksum', () => {
    const live = newApiKey('live')
    const test = newApiKey('test')
    expect(live).toMatch(/^atk_live_[0-9A-Za-z]{49}$/)
    expect(test).toMatch(/^atk_test_[0-9A-Za-z]{49}$/)
    expect(checkApiKey(live)).toBe('live')
    expect(checkApiKey(test)).toBe('test')
    expect(new Set(Array.from({ length: 200 }, () => newApiKey('test'))).size).toBe(200)
  })

  it('refuses every single-character change, a wrong prefix and a wrong length by the checksum alone', () => {
    const key = newApiKey('live')
    for (let i = 9; i < key.length; i++) {
      const other = key[i] === 'a' ? 'b' : 'a'
      expect(checkApiKey(`${key.slice(0, i)}${other}${key.slice(i + 1)}`), `position ${i}`).toBeUndefined()
    }
    expect(checkApiKey(key.replace('atk_live_', 'atk_test_'))).toBeUndefined()
    expect(checkApiKey(key.slice(0, -1))).toBeUndefined()
    expect(checkApiKey(`${key}0`)).toBeUndefined()
    expect(looksLikeApiKey(key)).toBe(true)
    expect(looksLikeApiKey('eyJhbGciOiJIUzI1NiJ9.e30.x')).toBe(false)
  })

  it('is stored as its SHA-256 and listed by a display form that hides all but eight characters', () => {
    const { key, stored } = mintApiKey('test', 90, Date.UTC(2026, 11, 2))
    expect(stored.hash).toEqual(apiKeyHash(key))
    expect(stored.hash).toHaveLength(32)
    expect(stored.display).toBe(apiKeyDisplay(key))
    expect(stored.display).toBe(`${key.slice(0, 13)}…${key.slice(-4)}`)
    expect(stored.expiresAt.toISOString()).toBe('2027-03-02T00:00:00.000Z')
  })

  it('is live on production stages only', () => {
    expect(['prod', 'production'].map(apiKeyEnvironmentOf)).toEqual(['live', 'live'])
    expect(['dev', 'local', 'test', 'Prod', ''].map(apiKeyEnvironmentOf)).toEqual(['test', 'test', 'test', 'test', 'test'])
  })
})
