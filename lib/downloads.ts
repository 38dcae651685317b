import 'server-only'
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { Readable } from 'node:stream'
import { and, asc, eq, gt, inArray, isNull, lt, sql } from 'drizzle-orm'
import { getDb, prepared, write, type Tx } from '@/db'
import { downloadGrants, orderLines, orders, productFiles, variants } from '@/db/schema'
import * as audit from './audit'
import { getEnv } from './env'
import { InvalidInput, NotFound } from './errors'
import { log } from './log'
import * as products from './products'
import { checkFileName } from './uploads'

// Digital products (docs/decisions/034-digital-products.md). A product with a file is a
// download: the owner uploads it in the admin, it is kept under STORAGE_DIR/downloads by a
// random name (never under uploads/, which the uploads route serves to anyone), and a paid
// order line of it gets a grant in the transaction that finds the order paid. A grant's link
// is /downloads/<token>: valid for DOWNLOAD_EXPIRY_DAYS after payment and DOWNLOAD_LIMIT
// downloads, withdrawn when the order is refunded in full or its dispute is lost.
//
// The token is a MAC of the order line under the order's own public token, so the order page
// and the confirmation email show the same link without it ever being stored: the database
// keeps only its hash. Whoever can read the order page can download, and no one else.

/** The largest file the owner may upload (the front server allows uploads this large, server/request-guard.ts). */
export const MAX_FILE_BYTES = 50 * 1024 * 1024

const TOKEN = /^[A-Za-z0-9_-]{43}$/

// The content type comes from the extension of a few well-known formats; anything else is
// sent as bytes. The browser's own claim about the file is not trusted.
const CONTENT_TYPES: Record<string, string> = {
  pdf: 'application/pdf',
  epub: 'application/epub+zip',
  zip: 'application/zip',
  mp3: 'audio/mpeg',
  m4a: 'audio/mp4',
  wav: 'audio/wav',
  flac: 'audio/flac',
  mp4: 'video/mp4',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  txt: 'text/plain; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
}

function contentTypeFor(fileName: string): string {
  const match = /\.([A-Za-z0-9]+)$/.exec(fileName)
  return (match && CONTENT_TYPES[match[1]!.toLowerCase()]) ?? 'application/octet-stream'
}

export function downloadsDir(): string {
  return path.join(/*turbopackIgnore: true*/ getEnv().storageDir, 'downloads')
}

const fileAt = (storageKey: string) => path.join(/*turbopackIgnore: true*/ downloadsDir(), storageKey)

export type ProductFile = typeof productFiles.$inferSelect

export function fileOf(productId: number): ProductFile | null {
  return getDb().select().from(productFiles).where(eq(productFiles.productId, productId)).get() ?? null
}

/**
 * Makes the product a download of this file, or replaces its file. Links already sold serve
 * the new file from then on (a corrected file reaches everyone who bought it); the old one is
 * deleted once the new one is in place.
 */
export function attach(actor: audit.Actor, productId: number, file: { name: string; bytes: Uint8Array }): ProductFile {
  const name = file.name.trim()
  if (!name) throw new InvalidInput('The file needs a name.')
  checkFileName(name)
  if (file.bytes.byteLength === 0) throw new InvalidInput('That file is empty: choose the file to sell.')
  if (file.bytes.byteLength > MAX_FILE_BYTES) throw new InvalidInput(`The file is too large: ${MAX_FILE_BYTES / 1024 / 1024} MB at most.`)
  if (!products.get(productId)) throw new NotFound('That product')
  const storageKey = crypto.randomBytes(16).toString('hex')
  const target = fileAt(storageKey)
  fs.mkdirSync(downloadsDir(), { recursive: true, mode: 0o700 })
  const tmp = `${target}.tmp`
  fs.writeFileSync(tmp, file.bytes, { mode: 0o600 })
  fs.renameSync(tmp, target)
  const row = { productId, storageKey, fileName: name, contentType: contentTypeFor(name), sizeBytes: file.bytes.byteLength, updatedAt: Date.now() }
  let previous: ProductFile | undefined
  try {
    previous = write((tx) => {
      const before = tx.select().from(productFiles).where(eq(productFiles.productId, productId)).get()
      tx.insert(productFiles).values(row).onConflictDoUpdate({ target: productFiles.productId, set: row }).run()
      audit.record(tx, actor, before ? 'product.file_replace' : 'product.file_attach', `product:${productId}`, before ? { fileName: before.fileName } : null, { fileName: name, sizeBytes: row.sizeBytes })
      return before
    })
  } catch (err) {
    fs.rmSync(target, { force: true })
    throw err
  }
  if (previous) fs.rmSync(fileAt(previous.storageKey), { force: true })
  return row
}

/** Makes the product a physical one again; its links answer "no longer offered". */
export function detach(actor: audit.Actor, productId: number): boolean {
  const removed = write((tx) => {
    const before = tx.delete(productFiles).where(eq(productFiles.productId, productId)).returning().get()
    if (before) audit.record(tx, actor, 'product.file_remove', `product:${productId}`, { fileName: before.fileName }, null)
    return before
  })
  if (removed) fs.rmSync(fileAt(removed.storageKey), { force: true })
  return !!removed
}

/** Whether every product given is a download (a cart of them needs no shipping). */
export function areAllDownloads(tx: Tx, productIds: number[]): boolean {
  const wanted = [...new Set(productIds)]
  if (wanted.length === 0) return false
  const found = tx.select({ id: productFiles.productId }).from(productFiles).where(inArray(productFiles.productId, wanted)).all()
  return found.length === wanted.length
}

// ---------------------------------------------------------------------------------------
// Grants

/** The link's token for an order line: a MAC under the order's public token, never stored. */
function tokenFor(orderToken: string, orderLineId: number): string {
  return crypto.createHmac('sha256', orderToken).update(`download:${orderLineId}`).digest('base64url')
}

const hashOf = (token: string) => crypto.createHash('sha256').update(token).digest('hex')

// Every paid order asks these (most find no file); built once (db.prepared), not per order.
const grantReads = () =>
  prepared('downloads.grantReads', (db) => ({
    token: db.select({ token: orders.publicToken }).from(orders).where(eq(orders.id, sql.placeholder('orderId'))).prepare(),
    fileLines: db
      .select({ lineId: orderLines.id, productId: variants.productId })
      .from(orderLines)
      .innerJoin(variants, eq(variants.id, orderLines.variantId))
      .innerJoin(productFiles, eq(productFiles.productId, variants.productId))
      .where(eq(orderLines.orderId, sql.placeholder('orderId')))
      .prepare(),
  }))

/**
 * Grants the order's lines of digital products, inside the transaction that finds the order
 * paid. One grant per line (UNIQUE), so a redelivered or concurrent event adds none.
 */
export function grantForOrder(tx: Tx, orderId: number, now: number): number {
  // In `tx`: the prepared statements run on the same connection, inside its transaction.
  const order = grantReads().token.get({ orderId })
  if (!order) return 0
  const lines = grantReads().fileLines.all({ orderId })
  const env = getEnv()
  let granted = 0
  for (const line of lines) {
    granted += tx
      .insert(downloadGrants)
      .values({
        orderId,
        orderLineId: line.lineId,
        productId: line.productId,
        tokenHash: hashOf(tokenFor(order.token, line.lineId)),
        downloadLimit: env.downloadLimit,
        expiresAt: now + env.downloadExpiryMs,
        createdAt: now,
      })
      .onConflictDoNothing()
      .run().changes
  }
  if (granted > 0) log.info('downloads: granted', { orderId, granted })
  return granted
}

/** Withdraws every link of the order (refunded in full, or its dispute lost); once. */
export function revokeForOrder(tx: Tx, orderId: number, now: number): number {
  const { changes } = tx.update(downloadGrants).set({ revokedAt: now }).where(and(eq(downloadGrants.orderId, orderId), isNull(downloadGrants.revokedAt))).run()
  if (changes > 0) log.info('downloads: revoked', { orderId, revoked: changes })
  return changes
}

export type LinkState = 'ready' | 'used_up' | 'expired' | 'revoked' | 'withdrawn'

export type DownloadLink = {
  orderLineId: number
  /** /downloads/<token>; absolute where it leaves the site (the email) */
  path: string
  fileName: string | null
  /** downloads taken so far, and how many the link allows */
  used: number
  limit: number
  remaining: number
  expiresAt: number
  state: LinkState
}

function stateOf(grant: { revokedAt: number | null; expiresAt: number; downloadCount: number; downloadLimit: number }, hasFile: boolean, now: number): LinkState {
  if (grant.revokedAt !== null) return 'revoked'
  if (!hasFile) return 'withdrawn'
  if (grant.expiresAt <= now) return 'expired'
  if (grant.downloadCount >= grant.downloadLimit) return 'used_up'
  return 'ready'
}

/** The order's download links, by order line, for the order page and the confirmation email. */
export function linksFor(order: { id: number; publicToken: string }, now = Date.now()): DownloadLink[] {
  const rows = getDb()
    .select({ grant: downloadGrants, fileName: productFiles.fileName })
    .from(downloadGrants)
    .leftJoin(productFiles, eq(productFiles.productId, downloadGrants.productId))
    .where(eq(downloadGrants.orderId, order.id))
    .orderBy(asc(downloadGrants.orderLineId))
    .all()
  return rows.map(({ grant, fileName }) => ({
    orderLineId: grant.orderLineId,
    path: `/downloads/${tokenFor(order.publicToken, grant.orderLineId)}`,
    fileName,
    used: grant.downloadCount,
    limit: grant.downloadLimit,
    remaining: Math.max(0, grant.downloadLimit - grant.downloadCount),
    expiresAt: grant.expiresAt,
    state: stateOf(grant, fileName !== null, now),
  }))
}

const REFUSALS: Record<Exclude<LinkState, 'ready'>, string> = {
  revoked: 'This download was withdrawn because the order was refunded.',
  withdrawn: 'This file is no longer offered by the shop.',
  expired: 'This download link has expired.',
  used_up: 'This download link has been used as many times as it allows.',
}

export type Claim =
  | { ok: true; body: ReadableStream<Uint8Array>; fileName: string; contentType: string; sizeBytes: number }
  | { ok: false; status: 404 | 410; message: string }

/**
 * One download: counts it with a conditional update (never past the limit, however many
 * arrive at once) and opens the file. The token is hostile input: only its hash is looked up,
 * and the file's path comes from the database, never from the URL.
 */
export function claim(token: string, now = Date.now()): Claim {
  const notFound = { ok: false as const, status: 404 as const, message: 'There is no download at this address.' }
  if (!TOKEN.test(token)) return notFound
  const outcome = write((tx) => {
    const grant = tx.select().from(downloadGrants).where(eq(downloadGrants.tokenHash, hashOf(token))).get()
    if (!grant) return notFound
    const file = tx.select().from(productFiles).where(eq(productFiles.productId, grant.productId)).get()
    const state = stateOf(grant, !!file, now)
    if (state !== 'ready') return { ok: false as const, status: 410 as const, message: REFUSALS[state] }
    // Opened before the count is taken: a missing file costs the shopper nothing, and a file
    // replaced meanwhile is still read whole through its open descriptor.
    let fd: number
    try {
      fd = fs.openSync(fileAt(file!.storageKey), 'r')
    } catch (err) {
      log.error('downloads: the file of a product is missing', { productId: grant.productId, err: String(err) })
      return { ok: false as const, status: 410 as const, message: REFUSALS.withdrawn }
    }
    const { changes } = tx
      .update(downloadGrants)
      .set({ downloadCount: sql`${downloadGrants.downloadCount} + 1` })
      .where(and(eq(downloadGrants.id, grant.id), isNull(downloadGrants.revokedAt), gt(downloadGrants.expiresAt, now), lt(downloadGrants.downloadCount, downloadGrants.downloadLimit)))
      .run()
    if (changes === 0) {
      fs.closeSync(fd)
      return { ok: false as const, status: 410 as const, message: REFUSALS.used_up }
    }
    return { ok: true as const, fd, file: file! }
  })
  if (!outcome.ok) return outcome
  const { fd, file } = outcome
  const body = Readable.toWeb(fs.createReadStream('', { fd })) as ReadableStream<Uint8Array>
  return { ok: true, body, fileName: file.fileName, contentType: file.contentType, sizeBytes: file.sizeBytes }
}

/** Content-Disposition for a download: the owner's file name, with a plain-ASCII fallback. */
export function dispositionOf(fileName: string): string {
  const ascii = fileName.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_')
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(fileName)}`
}
