import fs from 'node:fs'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { renderProductImage } from '@/demo/images'
import { allPictures } from '@/demo/pictures'
import { seedDemo } from '@/demo/seed'
import { freshDb, type TestDb } from '../support/db'

// seedDemo seeds a SQLite connection of its own (tests, benches), so it stays on SQLite here;
// the catalog the store seeds at boot, on both engines, is tests/integration/seed.test.ts.
// And every demo picture's drawing, before it becomes a JPEG, which touches no database.

let t: TestDb
let storageDir: string
beforeEach(() => {
  t = freshDb()
  storageDir = path.join(t.dir, 'storage')
})
afterEach(() => t.close())

const count = (sql: string) => (t.db.$client.prepare(sql).get() as { n: number }).n
const SIZE = 'SELECT (SELECT count(*) FROM products) + (SELECT count(*) FROM variants) + (SELECT count(*) FROM product_images) + (SELECT count(*) FROM collections) AS n'

/** Well-formed XML with an <svg> root: tags balance, no attribute is given twice. */
function assertSvg(text: string, file: string) {
  expect(text.trimStart().startsWith('<svg '), file).toBe(true)
  expect(text).toMatch(/^<svg [^>]*viewBox="0 0 800 800"/)
  const stack: string[] = []
  for (const [tag] of text.matchAll(/<[^>]+>/g)) {
    const name = /^<\/?([A-Za-z][\w:-]*)/.exec(tag)?.[1]
    expect(name, `${file}: odd tag ${tag}`).toBeDefined()
    const attrs = [...tag.matchAll(/\s([\w:-]+)="[^"]*"/g)].map((m) => m[1])
    expect(new Set(attrs).size, `${file}: duplicate attribute in ${tag}`).toBe(attrs.length)
    if (tag.startsWith('</')) expect(stack.pop(), `${file}: unbalanced ${tag}`).toBe(name)
    else if (!tag.endsWith('/>')) stack.push(name!)
  }
  expect(stack, `${file}: unclosed tags`).toEqual([])
  const ids = [...text.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1])
  expect(new Set(ids).size, `${file}: duplicate ids`).toBe(ids.length)
  // Text outside tags must be escaped.
  expect(text.replace(/<[^>]+>/g, '')).not.toMatch(/[<>]|&(?!amp;|lt;|gt;|quot;|#39;)/)
}

describe('seedDemo on a SQLite connection of its own', () => {
  it('seeds the catalog and its pictures once: a second call returns null and adds nothing', () => {
    const result = seedDemo(t.db, storageDir)
    expect(result).toEqual({
      products: count('SELECT count(*) AS n FROM products'),
      variants: count('SELECT count(*) AS n FROM variants'),
      collections: count('SELECT count(*) AS n FROM collections'),
      images: count('SELECT count(*) AS n FROM product_images'),
    })
    expect(result!.products).toBeGreaterThanOrEqual(29)
    expect(fs.readdirSync(path.join(storageDir, 'uploads', 'products'))).toHaveLength(result!.images)
    const before = count(SIZE)
    expect(seedDemo(t.db, storageDir)).toBeNull()
    expect(count(SIZE)).toBe(before)
  })

  it('leaves a store that already has products alone', () => {
    t.db.$client.prepare(`INSERT INTO products (slug, title) VALUES ('own', 'Our own thing')`).run()
    expect(seedDemo(t.db, storageDir)).toBeNull()
    expect(count('SELECT count(*) AS n FROM products')).toBe(1)
    expect(fs.existsSync(path.join(storageDir, 'uploads'))).toBe(false)
  })
})

describe('the demo pictures', () => {
  it('draws every picture as well-formed SVG before it becomes a JPEG', () => {
    for (const picture of allPictures()) assertSvg(renderProductImage(picture.spec), picture.file)
  })
})
