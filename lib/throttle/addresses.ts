/**
 * The part of a source address that one client controls, for per-address counters: an IPv4 address whole,
 * an IPv6 address by its /64 (one subscriber or host usually holds a whole /64, so counting single IPv6
 * addresses would let a client rotate through 2^64 of them). IPv4-mapped IPv6 addresses count as IPv4.
 * The platform's WHATWG URL parser validates and canonicalises IPv6 text; nothing is parsed by hand.
 */
import { isIPv4, isIPv6 } from 'node:net'

export function addressPrefix(address: string): string {
  if (isIPv4(address)) return address
  if (!isIPv6(address)) return `other:${address}`
  // e.g. [2001:db8::1] → 2001:db8::1, lower case, zeros compressed, an embedded IPv4 as two groups.
  const canonical = new URL(`http://[${address.replace(/%.*$/, '')}]/`).hostname.slice(1, -1)
  const [head = '', tail] = canonical.split('::')
  const left = head ? head.split(':') : []
  const right = tail ? tail.split(':') : []
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right]
  if (groups.slice(0, 5).every((g) => g === '0') && groups[5] === 'ffff') {
    const [high = 0, low = 0] = [Number.parseInt(groups[6] ?? '0', 16), Number.parseInt(groups[7] ?? '0', 16)]
    return [high >> 8, high & 255, low >> 8, low & 255].join('.')
  }
  return `${groups.slice(0, 4).join(':')}::/64`
}
