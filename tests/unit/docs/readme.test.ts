import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { AUDIT_EVENTS, auditEventTable } from '../../../lib/audit/catalogue.js'

const README = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8')

/** The rows of the markdown table between `<!-- name:start -->` and `<!-- name:end -->`, as [first cell, second cell]. */
function tableBetween(name: string): Array<[string, string]> {
  const match = README.match(new RegExp(`<!-- ${name}:start -->\\n([\\s\\S]*?)\\n<!-- ${name}:end -->`))
  if (!match?.[1]) throw new Error(`README.md has no ${name} markers`)
  return match[1]
    .split('\n')
    .slice(2) // the header and its rule
    .map((line) => {
      const cells = line
        .replace(/^\|/, '')
        .replace(/\|$/, '')
        .split(/(?<!\\)\|/)
        .map((cell) => cell.trim().replace(/\\\|/g, '|'))
      return [cells[0] ?? '', cells[1] ?? ''] as [string, string]
    })
}

describe('README.md', () => {
  it('lists exactly the audit event types of lib/audit/events.ts, with their descriptions, in order', () => {
    const expected = Object.entries(AUDIT_EVENTS).map(([type, description]) => [`\`${type}\``, description])
    // On a mismatch, paste auditEventTable() between the audit-events markers (npm run format pads it).
    expect(tableBetween('audit-events'), auditEventTable()).toEqual(expected)
  })
})
