import { describe as group, expect, it } from 'vitest'
import { changesOf, describe } from '@/app/admin/(console)/audit/changes'

// The audit log shows what changed as "field: before → after" lines, never raw JSON.

group('audit changes', () => {
  it('lists only the fields that changed, with before and after', () => {
    expect(changesOf({ title: 'Mug', status: 'active', isFeatured: false }, { title: 'Trail Mug', status: 'active', isFeatured: true })).toEqual([
      { field: 'title', before: 'Mug', after: 'Trail Mug' },
      { field: 'isFeatured', before: 'no', after: 'yes' },
    ])
  })

  it('shows a creation as the new values and a removal as the old ones', () => {
    expect(changesOf(null, { code: 'SPRING-20', percentOff: 20, expiresAt: null })).toEqual([
      { field: 'code', after: 'SPRING-20' },
      { field: 'percentOff', after: '20' },
      { field: 'expiresAt', after: '—' },
    ])
    expect(changesOf({ stock: 5 }, { stock: 8, delta: 3, note: 'received' })).toEqual([
      { field: 'stock', before: '5', after: '8' },
      { field: 'delta', after: '3' },
      { field: 'note', after: 'received' },
    ])
    expect(changesOf({ path: 'a.jpg' }, null)).toEqual([{ field: 'path', before: 'a.jpg' }])
  })

  it('describes nested values in words, not JSON', () => {
    const text = describe([{ sku: 'MUG-S', options: { Size: 'Small' } }, { sku: 'MUG-L', options: { Size: 'Large' } }])
    expect(text).toBe('(sku: MUG-S, options: Size: Small); (sku: MUG-L, options: Size: Large)')
    expect(text).not.toMatch(/[{}"]/)
    expect(describe('x'.repeat(500))).toHaveLength(160)
  })

  it('a plain value (not a record) is one unnamed line', () => {
    expect(changesOf(null, 'reconciled')).toEqual([{ field: '', after: 'reconciled' }])
    expect(changesOf(null, null)).toEqual([])
  })
})
