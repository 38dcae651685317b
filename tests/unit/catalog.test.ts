import { describe, expect, it } from 'vitest'
import * as catalog from '@/lib/catalog'

// The listing's query strings, parsed and built without the database; the catalog's reads are
// tested on both engines in tests/integration/catalog.test.ts.

describe('listing query strings', () => {
  const known: catalog.Facets = {
    collections: [{ slug: 'outerwear', title: 'Outerwear' }],
    options: [
      { name: 'Colour', param: 'colour', values: ['Navy', 'Olive'] },
      { name: 'Size', param: 'size', values: ['S', 'M'] },
    ],
  }

  it('keeps only what the catalog knows', () => {
    expect(catalog.parseListingParams({ collection: 'outerwear', colour: ['Navy', 'Pink'], size: 'M,XXL', instock: '1', sort: 'price-desc', page: '2' }, known)).toEqual({
      collection: 'outerwear',
      options: { Colour: ['Navy'], Size: ['M'] },
      inStock: true,
      sort: 'price-desc',
      page: 2,
    })
    expect(catalog.parseListingParams({ collection: '<script>', sort: 'DROP TABLE', page: '-4', colour: 'x'.repeat(10_000) }, known)).toEqual({
      collection: null,
      options: {},
      inStock: false,
      sort: 'featured',
      page: 1,
    })
    expect(catalog.parseListingParams({ page: '1e400' }, known).page).toBe(1)
  })

  it('builds hrefs that round-trip', () => {
    const query = catalog.parseListingParams({ colour: ['Navy', 'Olive'], sort: 'newest' }, known)
    const href = catalog.listingHref('/products', query, known, { page: 2 })
    expect(href).toBe('/products?colour=Navy&colour=Olive&sort=newest&page=2')
    const params = Object.fromEntries([...new URLSearchParams(href.split('?')[1]).keys()].map((k) => [k, new URLSearchParams(href.split('?')[1]).getAll(k)]))
    expect(catalog.parseListingParams(params, known)).toEqual({ ...query, page: 2 })
  })
})
