import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { eq } from 'drizzle-orm'
import { openDatabase, setDb, write } from '@/db'
import { migrate } from '@/db/migrate'
import { collections, productCollections, products, variants } from '@/db/schema'
import { CATALOG } from '@/demo/catalog'
import { seedDemo } from '@/demo/seed'
import * as search from '@/lib/search'

// Search at catalog scale, timed in this process (lib/search called directly, no HTTP): the
// demo catalog seeded by demo/seed.ts, then grown to `size` products made from its own
// titles, descriptions, sizes and collections, so the words are a real shop's words.
// The baseline is the bare ranked FTS5 query for the same words (rowids only, same LIMIT).

const COLOURS = ['Navy', 'Moss', 'Rust', 'Stone', 'Black', 'Oat', 'Slate', 'Clay', 'Pine', 'Sand']
const EDITIONS = ['Classic', 'Trail', 'Harbor', 'Summit', 'Everyday', 'Coastal', 'Alpine', 'Field']
export const QUERIES = ['rain', 'jacket', 'wool', 'merino beanie', 'mug', 'organic cotton', 'navy', 'camp blanket', 'sock', 'waterproof shell', 'tote', 'candle', 'xyzzy', 'ha']

export type SearchFigures = { products: number; p50: number; p99: number; bareP50: number; bareP99: number; queries: number; passes: number }

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
}

function generate(size: number) {
  const slugToId = new Map<string, number>()
  const now = Date.now()
  write((tx) => {
    for (const c of tx.select({ id: collections.id, slug: collections.slug }).from(collections).all()) slugToId.set(c.slug, c.id)
    const existing = tx.select({ id: products.id }).from(products).all().length
    for (let i = existing; i < size; i++) {
      const base = CATALOG[i % CATALOG.length]!
      const colour = COLOURS[Math.floor(i / CATALOG.length) % COLOURS.length]!
      const edition = EDITIONS[Math.floor(i / (CATALOG.length * COLOURS.length)) % EDITIONS.length]!
      const { id } = tx
        .insert(products)
        .values({ slug: `${base.slug}-${i}`, title: `${edition} ${base.title} in ${colour}`, description: base.description, createdAt: now - i * 60_000, updatedAt: now })
        .returning({ id: products.id })
        .get()
      const sizes = base.sizes ?? [undefined]
      sizes.forEach((size, position) => {
        tx.insert(variants)
          .values({ productId: id, sku: `${base.code}-${i}-${position}`, title: size ?? 'Default', priceCents: base.priceCents, stock: (i + position) % 7, options: size ? { Size: size, Colour: colour } : { Colour: colour }, position })
          .run()
      })
      for (const slug of base.collections) {
        const collectionId = slugToId.get(slug)
        if (collectionId) tx.insert(productCollections).values({ productId: id, collectionId, position: i }).run()
      }
    }
  })
}

/**
 * A store of its own in a temp folder, made this process's database: the demo catalog grown to
 * `size` active products. close() closes it and removes the folder.
 */
export function searchStore(size: number): { db: ReturnType<typeof openDatabase>; count: number; close(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'till-bench-search-'))
  const db = openDatabase(path.join(dir, 'store.sqlite3'))
  migrate(db.$client)
  setDb(db)
  seedDemo(db, dir)
  // the demo's drafts are not searchable: make `size` active products
  generate(size + CATALOG.filter((p) => p.status === 'draft').length)
  const count = db.select({ id: products.id }).from(products).where(eq(products.status, 'active')).all().length
  return {
    db,
    count,
    close() {
      setDb(undefined)
      db.$client.close()
      fs.rmSync(dir, { recursive: true, force: true })
    },
  }
}

export function percentiles(times: number[]): { p50: number; p99: number } {
  const sorted = [...times].sort((a, b) => a - b)
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) }
}

export function searchBench(size: number, rounds: number, passes: number): SearchFigures {
  const store = searchStore(size)
  const { db, count } = store
  try {
    const bare = db.$client.prepare('SELECT rowid FROM product_search WHERE product_search MATCH ? ORDER BY rank LIMIT 48')
    const time = (fn: () => unknown) => {
      const start = performance.now()
      fn()
      return performance.now() - start
    }
    // search() returns a promise, but on SQLite the runner reads before it returns (db/tx.ts),
    // so timing the call times the whole search
    for (const q of QUERIES) void search.search(q) // warm up the page cache and statements
    // Passes of `rounds` rounds each; the pass with the lowest p99 is reported, since on a
    // shared machine another process's burst lands on whichever query runs at the time.
    let best: Omit<SearchFigures, 'products'> | undefined
    for (let pass = 0; pass < passes; pass++) {
      const lib: number[] = []
      const raw: number[] = []
      for (let r = 0; r < rounds; r++) {
        for (const q of QUERIES) {
          lib.push(time(() => search.search(q)))
          const match = search.toFtsQuery(q)
          if (match) raw.push(time(() => bare.all(match)))
        }
      }
      lib.sort((a, b) => a - b)
      raw.sort((a, b) => a - b)
      const figures = { p50: percentile(lib, 50), p99: percentile(lib, 99), bareP50: percentile(raw, 50), bareP99: percentile(raw, 99), queries: lib.length, passes }
      if (!best || figures.p99 < best.p99) best = figures
    }
    return { products: count, ...best! }
  } finally {
    store.close()
  }
}
