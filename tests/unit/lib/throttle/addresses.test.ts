import { describe, expect, it } from 'vitest'
import { addressPrefix } from '../../../../lib/throttle/addresses.js'

describe('addressPrefix', () => {
  it('keeps an IPv4 address whole', () => {
    expect(addressPrefix('203.0.113.7')).toBe('203.0.113.7')
  })

  it('counts an IPv6 address by its /64, however it is written', () => {
    const prefix = '2001:db8:0:1::/64'
    for (const written of ['2001:db8:0:1::1', '2001:DB8:0:1:ffff:ffff:ffff:ffff', '2001:0db8:0000:0001:0:0:0:42', '2001:db8::1:0:0:0:9']) {
      expect(addressPrefix(written), written).toBe(prefix)
    }
    expect(addressPrefix('2001:db8:0:2::1')).not.toBe(prefix)
  })

  it('counts an IPv4-mapped IPv6 address as its IPv4 address', () => {
    expect(addressPrefix('::ffff:203.0.113.7')).toBe('203.0.113.7')
  })

  it('keeps anything else apart, as its own text', () => {
    expect(addressPrefix('not-an-address')).toBe('other:not-an-address')
  })
})
