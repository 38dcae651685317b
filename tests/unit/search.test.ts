import { describe, expect, it } from 'vitest'
import * as search from '@/lib/search'

// How lib/search.ts reads a query before any engine sees it: every term quoted as a prefix,
// so operators are only words, and the match markers turned into parts. Searching itself runs
// on both engines in tests/integration/search.test.ts.

describe('hostile queries', () => {
  it('quotes every term as a prefix, so operators are only words', () => {
    expect(search.toFtsQuery('jack NEAR "rain" OR *')).toBe('"jack"* "NEAR"* "rain"* "OR"*')
    expect(search.toFtsQuery('jack rain', 'OR')).toBe('"jack"* OR "rain"*')
    expect(search.toFtsQuery('<>"*')).toBeNull()
    expect(search.toFtsQuery('Café crème')).toBe('"Café"* "crème"*')
  })

  it('markedParts handles stray and unbalanced markers', () => {
    expect(search.markedParts('a\uE000b\uE001c')).toEqual([
      { text: 'a', isMatch: false },
      { text: 'b', isMatch: true },
      { text: 'c', isMatch: false },
    ])
    expect(search.markedParts('\uE001x\uE000y')).toEqual([
      { text: 'x', isMatch: false },
      { text: 'y', isMatch: true },
    ])
  })
})
