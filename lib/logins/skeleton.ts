/**
 * A login's confusable skeleton (UTS #39 §4), computed from its key (lib/logins/canonical.ts): internalSkeleton (NFD,
 * no default-ignorables, each code point mapped to its confusables.txt prototype, NFD), alternated with the
 * key's own width mapping and case folding until a fixed point, since prototypes may be capitals (ℌ → H) or
 * halfwidth forms (゛ → ﾞ) that a key never holds. Two logins with one skeleton look alike: the second is taken.
 *
 * Apart from lib/logins/canonical.ts because its data is large (unhomoglyph: confusables.txt 13.0.0 as a code point →
 * prototype map, the newest any npm package ships, about 70 KB bundled): only registering (and the migration that
 * fills the column) needs it; a login is looked up by its key.
 */
import unhomoglyph from 'unhomoglyph'
import { widthAndCaseMapped } from './canonical.js'

const DEFAULT_IGNORABLES = /\p{Default_Ignorable_Code_Point}/gu

/** Rounds of mapping before settling for no fixed point; today's data reaches one in three at most (a test checks every code point). */
const SKELETON_ROUNDS = 8

export function loginSkeleton(key: string): string {
  let current = key
  for (let round = 0; round < SKELETON_ROUNDS; round++) {
    const next = unhomoglyph(widthAndCaseMapped(current).normalize('NFD').replace(DEFAULT_IGNORABLES, '')).normalize('NFD')
    if (next === current) break
    current = next
  }
  return current
}
