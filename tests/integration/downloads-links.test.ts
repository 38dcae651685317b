import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { sql } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { transaction } from '@/db/tx'
import * as downloads from '@/lib/downloads'
import { NotFound } from '@/lib/errors'
import { ENGINES, insertOrder, useEngine, type TestEngine } from '../support/engines'
import { useStorageDir } from '../support/storage-dir'
import { rejected } from '../support/thrown'

// A digital product's file and its links (lib/downloads.ts) on both engines: the owner attaches,
// replaces and removes the file (each with its audit row), an order's links say what is left,
// and a download is counted up to the link's limit and no further, even when 20 arrive at once
// on two app servers for a link with 3 left.

const owner = { id: 1, email: 'owner@example.com' }
const sha256 = (text: string) => crypto.createHash('sha256').update(text).digest('hex')

/** A paid order of one line of a digital product with a file, and its link's token. */
async function order(engine: TestEngine, key: string, grant: { limit: number; count?: number; expiresAt?: number }) {
  const [product] = await engine.rows<{ id: number | string }>(sql`INSERT INTO products (slug, title) VALUES (${`book-${key}`}, 'Book') RETURNING id`)
  const productId = Number(product!.id)
  await downloads.attach(owner, productId, { name: 'book.pdf', bytes: new TextEncoder().encode(`the book ${key}`) })
  const orderId = await insertOrder(engine, key)
  const [line] = await engine.rows<{ id: number | string }>(
    sql`INSERT INTO order_lines (order_id, title, quantity, unit_amount_cents, total_cents) VALUES (${orderId}, 'Book', 1, 900, 900) RETURNING id`,
  )
  await engine.rows(sql`
    INSERT INTO download_grants (order_id, order_line_id, product_id, token_hash, download_limit, download_count, expires_at, created_at)
    VALUES (${orderId}, ${Number(line!.id)}, ${productId}, ${`pending-${key}`}, ${grant.limit}, ${grant.count ?? 0}, ${grant.expiresAt ?? Date.now() + 60_000}, 1) RETURNING id`)
  const ref = { id: orderId, publicToken: `token_${key}_abcdefghijklmnopqrstuvwx` }
  // the link's token is a MAC of the line under the order's token: the page computes it, the row keeps its hash
  const token = (await downloads.linksFor(ref))[0]!.path.split('/').pop()!
  await engine.rows(sql`UPDATE download_grants SET token_hash = ${sha256(token)} WHERE order_id = ${orderId} RETURNING id`)
  return { productId, orderId, ref, token }
}

/** stored_files' rows, the bytes as text. */
async function storedFiles(engine: TestEngine) {
  const rows = await engine.rows<{ key: string; content_type: string; size_bytes: number | string; sha256: string; bytes: Buffer }>(sql`SELECT key, content_type, size_bytes, sha256, bytes FROM stored_files ORDER BY key`)
  return rows.map(({ bytes, ...row }) => ({ ...row, size_bytes: Number(row.size_bytes), text: Buffer.from(bytes).toString('utf8') }))
}

const countOf = async (engine: TestEngine, orderId: number) => engine.count(sql`SELECT download_count AS n FROM download_grants WHERE order_id = ${orderId}`)
const text = async (claim: downloads.Claim) => (claim.ok ? new Response(claim.body).text() : null)

describe.each(ENGINES)('download links on %s', (name) => {
  const engine = useEngine(name)
  useStorageDir(engine)

  it('attaches, replaces and removes the file, each with its audit row; an unknown product leaves nothing on the disk', async () => {
    const { productId, ref } = await order(engine, 'a', { limit: 2 })
    const first = (await downloads.fileOf(productId))!
    expect(first).toMatchObject({ productId, fileName: 'book.pdf', contentType: 'application/pdf', sizeBytes: 'the book a'.length })
    // the bytes are in the database, under the file's key, with their size and checksum
    expect(await storedFiles(engine)).toEqual([{ key: `downloads/${first.storageKey}`, content_type: 'application/pdf', size_bytes: 'the book a'.length, sha256: sha256('the book a'), text: 'the book a' }])
    await downloads.attach(owner, productId, { name: 'book.epub', bytes: new TextEncoder().encode('v2') })
    expect(fs.existsSync(path.join(downloads.downloadsDir(), first.storageKey))).toBe(false)
    const second = (await downloads.fileOf(productId))!
    expect(second.fileName).toBe('book.epub')
    expect(await storedFiles(engine)).toEqual([{ key: `downloads/${second.storageKey}`, content_type: 'application/epub+zip', size_bytes: 2, sha256: sha256('v2'), text: 'v2' }])
    expect(await rejected(downloads.attach(owner, 999_999, { name: 'x.pdf', bytes: new Uint8Array([1]) }))).toBeInstanceOf(NotFound)
    expect(fs.readdirSync(downloads.downloadsDir())).toEqual([second.storageKey])
    expect((await storedFiles(engine)).map((f) => f.key)).toEqual([`downloads/${second.storageKey}`])

    expect(await downloads.detach(owner, productId)).toBe(true)
    expect(await downloads.detach(owner, productId)).toBe(false)
    expect(await downloads.fileOf(productId)).toBeNull()
    expect(fs.readdirSync(downloads.downloadsDir())).toEqual([])
    expect(await storedFiles(engine)).toEqual([])
    expect((await downloads.linksFor(ref))[0]).toMatchObject({ state: 'withdrawn', fileName: null })
    const audit = await engine.rows<{ action: string }>(sql`SELECT action FROM audit_log ORDER BY id`)
    expect(audit.map((r) => r.action)).toEqual(['product.file_attach', 'product.file_replace', 'product.file_remove'])
  })

  it('counts each download up to the limit, then refuses; an expired or unknown link counts nothing', async () => {
    const { orderId, ref, token } = await order(engine, 'b', { limit: 2 })
    expect((await downloads.linksFor(ref))[0]).toMatchObject({ state: 'ready', used: 0, limit: 2, remaining: 2, fileName: 'book.pdf' })
    const first = await downloads.claim(token)
    expect(first).toMatchObject({ ok: true, fileName: 'book.pdf', contentType: 'application/pdf', sizeBytes: 10 })
    expect(await text(first)).toBe('the book b')
    expect(await text(await downloads.claim(token))).toBe('the book b')
    expect(await downloads.claim(token)).toEqual({ ok: false, status: 410, message: 'This download link has been used as many times as it allows.' })
    expect(await countOf(engine, orderId)).toBe(2)
    expect((await downloads.linksFor(ref))[0]).toMatchObject({ state: 'used_up', remaining: 0 })

    const later = await order(engine, 'c', { limit: 5, expiresAt: Date.now() + 1000 })
    expect(await downloads.claim(later.token, Date.now() + 1000)).toMatchObject({ ok: false, status: 410, message: 'This download link has expired.' })
    expect(await countOf(engine, later.orderId)).toBe(0)
    expect(await downloads.claim('a'.repeat(43))).toMatchObject({ ok: false, status: 404 })
    expect(await downloads.claim('../../etc/passwd')).toMatchObject({ ok: false, status: 404 })
  })

  it('grants each digital line of a paid order once, with a link its token opens; revoking withdraws it once', async () => {
    const [product] = await engine.rows<{ id: number | string }>(sql`INSERT INTO products (slug, title) VALUES ('ebook', 'Ebook') RETURNING id`)
    const productId = Number(product!.id)
    await downloads.attach(owner, productId, { name: 'ebook.epub', bytes: new TextEncoder().encode('chapters') })
    const variant = async (id: number, sku: string) =>
      Number((await engine.rows<{ id: number | string }>(sql`INSERT INTO variants (product_id, sku, title, price_cents) VALUES (${id}, ${sku}, 'Default', 900) RETURNING id`))[0]!.id)
    const digital = await variant(productId, 'EBOOK')
    const [mug] = await engine.rows<{ id: number | string }>(sql`INSERT INTO products (slug, title) VALUES ('mug', 'Mug') RETURNING id`)
    const shipped = await variant(Number(mug!.id), 'MUG')
    const orderId = await insertOrder(engine, 'g')
    for (const variantId of [shipped, digital]) {
      await engine.rows(sql`INSERT INTO order_lines (order_id, variant_id, title, quantity, unit_amount_cents, total_cents) VALUES (${orderId}, ${variantId}, 'Line', 1, 900, 900) RETURNING id`)
    }
    const now = Date.now()
    expect(await transaction((tx, t) => downloads.grantingForOrder(tx, t, orderId, now))).toBe(1)
    expect(await transaction((tx, t) => downloads.grantingForOrder(tx, t, orderId, now))).toBe(0)
    const ref = { id: orderId, publicToken: 'token_g_abcdefghijklmnopqrstuvwx' }
    const [link] = await downloads.linksFor(ref)
    expect(link).toMatchObject({ state: 'ready', fileName: 'ebook.epub', used: 0 })
    const token = link!.path.split('/').pop()!
    expect(await text(await downloads.claim(token))).toBe('chapters')

    expect(await transaction((tx, t) => downloads.revokingForOrder(tx, t, orderId, now + 1))).toBe(1)
    expect(await transaction((tx, t) => downloads.revokingForOrder(tx, t, orderId, now + 2))).toBe(0)
    expect((await downloads.linksFor(ref))[0]!.state).toBe('revoked')
    expect(await downloads.claim(token)).toEqual({ ok: false, status: 410, message: 'This download was withdrawn because the order was refunded.' })
  })

  it('a file missing from this server\'s disk is served from the database and copied back; missing from both, it costs the shopper no download', async () => {
    const { productId, orderId, token } = await order(engine, 'd', { limit: 3 })
    const { storageKey } = (await downloads.fileOf(productId))!
    const onDisk = path.join(downloads.downloadsDir(), storageKey)
    // as on an app server that did not take the upload
    fs.rmSync(onDisk)
    expect(await text(await downloads.claim(token))).toBe('the book d')
    expect(fs.readFileSync(onDisk, 'utf8')).toBe('the book d')
    expect(fs.statSync(onDisk).mode & 0o777).toBe(0o600)
    expect(await countOf(engine, orderId)).toBe(1)

    fs.rmSync(onDisk)
    await engine.rows(sql`DELETE FROM stored_files WHERE key = ${`downloads/${storageKey}`} RETURNING key`)
    expect(await downloads.claim(token)).toMatchObject({ ok: false, status: 410, message: 'This file is no longer offered by the shop.' })
    expect(await countOf(engine, orderId)).toBe(1)
  })

  it.runIf(name === 'postgres')('20 downloads at once on two app servers of a link with 3 left: exactly 3 are served', async () => {
    const { orderId, token } = await order(engine, 'e', { limit: 5, count: 2 })
    const servers = engine.appServers(2)
    let claims: downloads.Claim[]
    try {
      claims = await Promise.all(Array.from({ length: 20 }, () => downloads.claim(token)))
    } finally {
      await servers.end()
    }
    const served = claims.filter((c) => c.ok)
    expect(served).toHaveLength(3)
    expect(await Promise.all(served.map(text))).toEqual(['the book e', 'the book e', 'the book e'])
    expect(claims.filter((c) => !c.ok && c.status === 410)).toHaveLength(17)
    expect(await countOf(engine, orderId)).toBe(5)
  })
})
