import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { SHAREABLE_PAGES } from '@/app/(shop)/shareable-pages'
import { matchShareable } from '@/server/response-cache'

// The pages the response cache may keep are declared beside them (app/(shop)/shareable-pages.ts);
// each declared route must be a page of the shop, or the cache would keep a route nobody owns.

const shop = path.resolve(import.meta.dirname, '../../app/(shop)')

describe('shareable pages', () => {
  it.each(SHAREABLE_PAGES)('$route is a page of the shop', ({ route }) => {
    expect(fs.existsSync(path.join(shop, route, 'page.tsx'))).toBe(true)
  })

  it('matches the declared routes, segment by segment, and nothing else', () => {
    const match = matchShareable(SHAREABLE_PAGES)
    expect(match('/')).toEqual({ kind: 'listing', slug: null })
    expect(match('/collections/summer')).toEqual({ kind: 'listing', slug: null })
    expect(match('/products/blue-mug')).toEqual({ kind: 'product', slug: 'blue-mug' })
    expect(match('/cart')).toEqual({ kind: 'new-visitor', slug: null })
    for (const other of ['/products/blue-mug/default', '/account', '/checkout/success', '/cartx', '/orders/abc', '/products/']) expect(match(other)).toBeNull()
  })
})
