import 'server-only'
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { Readable } from 'node:stream'
import { and, asc, eq, gt, inArray, isNull, lt, sql } from 'drizzle-orm'
import { productFiles } from '@/db/schema'
import { all, get, preparedAll, read, run, transaction, type Reader, type Statement, type Steps, type Tables, type Writer } from '@/db/tx'
import * as audit from './audit'
import { getEnv } from './env'
import { InvalidInput, NotFound } from './errors'
import { log } from './log'
import * as storedFiles from './stored-files'
import { checkFileName } from './uploads'

// Digital products (docs/decisions/034-digital-products.md). A product with a file is a
// download: the owner uploads it in the admin, its bytes are stored in the database with the
// row that names it (lib/stored-files.ts, under `downloads/<storage key>`), each app server
// keeps a copy under STORAGE_DIR/downloads by that random name, made where it was uploaded or
// at its first download there (never under uploads/, which the uploads route serves to
// anyone), and a paid order line of it gets a grant in the transaction that finds the order
// paid. A grant's link is /downloads/<token>: valid for DOWNLOAD_EXPIRY_DAYS after payment
// and DOWNLOAD_LIMIT downloads, withdrawn when the order is refunded in full or its dispute
// is lost.
//
// The token is a MAC of the order line under the order's own public token, so the order page
// and the confirmation email show the same link without it ever being stored: the database
// keeps only its hash. Whoever can read the order page can download, and no one else.
//
// The owner's file, the links and the download count are written on db/tx.ts (decision 047),
// so they run on both engines. A download is counted by one conditional UPDATE (never past the
// limit): on PostgreSQL, requests at once on several app servers wait for the row and test
// the count again on the committed one. The grants are steps too (grantingForOrder,
// revokingForOrder), which the webhook intake's transaction yields.

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

export async function fileOf(productId: number): Promise<ProductFile | null> {
  return (await read((db, t) => get(db.select().from(t.productFiles).where(eq(t.productFiles.productId, productId)).limit(1)))) ?? null
}

/**
 * Makes the product a download of this file, or replaces its file. Links already sold serve
 * the new file from then on (a corrected file reaches everyone who bought it); the old one is
 * deleted once the new one is in place.
 */
export async function attach(actor: audit.Actor, productId: number, file: { name: string; bytes: Uint8Array }): Promise<ProductFile> {
  const name = file.name.trim()
  if (!name) throw new InvalidInput('The file needs a name.')
  checkFileName(name)
  if (file.bytes.byteLength === 0) throw new InvalidInput('That file is empty: choose the file to sell.')
  if (file.bytes.byteLength > MAX_FILE_BYTES) throw new InvalidInput(`The file is too large: ${MAX_FILE_BYTES / 1024 / 1024} MB at most.`)
  // This server's copy is in place before the row names it, and removed again if the row is
  // not written (an unknown product among them): nothing on the disk waits for a transaction.
  // The bytes go into the database in the transaction that writes the row.
  const storageKey = crypto.randomBytes(16).toString('hex')
  const target = fileAt(storageKey)
  fs.mkdirSync(downloadsDir(), { recursive: true, mode: 0o700 })
  const tmp = `${target}.tmp`
  fs.writeFileSync(tmp, file.bytes, { mode: 0o600 })
  fs.renameSync(tmp, target)
  const row = { productId, storageKey, fileName: name, contentType: contentTypeFor(name), sizeBytes: file.bytes.byteLength, updatedAt: Date.now() }
  const stored = storedFiles.fileToStore(storedFiles.downloadKey(storageKey), row.contentType, file.bytes, row.updatedAt)
  let previous: ProductFile | undefined
  try {
    previous = await transaction(function* (tx, t) {
      if (!(yield* get(tx.select({ id: t.products.id }).from(t.products).where(eq(t.products.id, productId)).limit(1)))) throw new NotFound('That product')
      const before = yield* get(tx.select().from(t.productFiles).where(eq(t.productFiles.productId, productId)).limit(1))
      yield* storedFiles.storing(tx, t, [stored])
      if (before) yield* storedFiles.removing(tx, t, [storedFiles.downloadKey(before.storageKey)])
      yield* run(tx.insert(t.productFiles).values(row).onConflictDoUpdate({ target: t.productFiles.productId, set: row }))
      yield* audit.recording(tx, t, actor, before ? 'product.file_replace' : 'product.file_attach', `product:${productId}`, before ? { fileName: before.fileName } : null, { fileName: name, sizeBytes: row.sizeBytes })
      return before
    })
  } catch (err) {
    fs.rmSync(target, { force: true })
    throw err
  }
  if (previous) fs.rmSync(fileAt(previous.storageKey), { force: true })
  return row
}

/**
 * The products' files on this server's disk, given each one's storage key and content type
 * (product_files), for `npm run db:move-to-postgres` to store the files of a store made
 * before they were kept in the database. A file no product names is left out.
 */
export function onDisk(named: ReadonlyMap<string, string>): storedFiles.DiskFile[] {
  return [...named]
    .filter(([storageKey]) => /^[0-9a-f]{32}$/.test(storageKey) && fs.existsSync(fileAt(storageKey)))
    .map(([storageKey, contentType]) => storedFiles.diskFile(storedFiles.downloadKey(storageKey), fileAt(storageKey), contentType))
}

/** Makes the product a physical one again; its links answer "no longer offered". */
export async function detach(actor: audit.Actor, productId: number): Promise<boolean> {
  const removed = await transaction(function* (tx, t) {
    const before = yield* get(tx.delete(t.productFiles).where(eq(t.productFiles.productId, productId)).returning())
    if (before) yield* storedFiles.removing(tx, t, [storedFiles.downloadKey(before.storageKey)])
    if (before) yield* audit.recording(tx, t, actor, 'product.file_remove', `product:${productId}`, { fileName: before.fileName }, null)
    return before
  })
  if (removed) fs.rmSync(fileAt(removed.storageKey), { force: true })
  return !!removed
}

/** Whether every product given is a download (a cart of them needs no shipping): a read step for a body on either engine. */
export function* areAllDownloadsIn(db: Reader, t: Tables, productIds: number[]): Steps<boolean> {
  const wanted = [...new Set(productIds)]
  if (wanted.length === 0) return false
  const found = yield* all(db.select({ id: t.productFiles.productId }).from(t.productFiles).where(inArray(t.productFiles.productId, wanted)))
  return found.length === wanted.length
}

// ---------------------------------------------------------------------------------------
// Grants

/** The link's token for an order line: a MAC under the order's public token, never stored. */
function tokenFor(orderToken: string, orderLineId: number): string {
  return crypto.createHmac('sha256', orderToken).update(`download:${orderLineId}`).digest('base64url')
}

const hashOf = (token: string) => crypto.createHash('sha256').update(token).digest('hex')

// Every paid order asks which of its lines are downloads (most find none): one prepared
// statement per connection (decision 001), the same text on both engines but its placeholder.
const fileLinesText = (orderId: string) => `SELECT l.id AS "lineId", v.product_id AS "productId", o.public_token AS "orderToken"
  FROM orders o JOIN order_lines l ON l.order_id = o.id JOIN variants v ON v.id = l.variant_id JOIN product_files f ON f.product_id = v.product_id
  WHERE o.id = ${orderId} ORDER BY l.id`
const fileLineRow = (raw: Record<string, unknown>) => ({ lineId: Number(raw.lineId), productId: Number(raw.productId), orderToken: String(raw.orderToken) })
const fileLines: Statement<{ orderId: number }, { lineId: number; productId: number; orderToken: string }> = {
  name: 'downloads.fileLines',
  sqlite: { text: fileLinesText('@orderId'), values: ({ orderId }) => ({ orderId }), row: fileLineRow },
  postgres: { text: fileLinesText('$1'), values: ({ orderId }) => [orderId], row: fileLineRow },
}

/**
 * Grants the order's lines of digital products, as a step of the transaction that finds the
 * order paid. One grant per line (UNIQUE), so a redelivered or concurrent event adds none.
 */
export function* grantingForOrder(tx: Writer, t: Tables, orderId: number, now: number): Steps<number> {
  const lines = yield* preparedAll(fileLines, { orderId })
  const env = getEnv()
  let granted = 0
  for (const line of lines) {
    const { changes } = yield* run(
      tx
        .insert(t.downloadGrants)
        .values({
          orderId,
          orderLineId: line.lineId,
          productId: line.productId,
          tokenHash: hashOf(tokenFor(line.orderToken, line.lineId)),
          downloadLimit: env.downloadLimit,
          expiresAt: now + env.downloadExpiryMs,
          createdAt: now,
        })
        .onConflictDoNothing(),
    )
    granted += changes
  }
  if (granted > 0) log.info('downloads: granted', { orderId, granted })
  return granted
}

/** Withdraws every link of the order (refunded in full, or its dispute lost); once. */
export function* revokingForOrder(tx: Writer, t: Tables, orderId: number, now: number): Steps<number> {
  const grants = t.downloadGrants
  const { changes } = yield* run(tx.update(grants).set({ revokedAt: now }).where(and(eq(grants.orderId, orderId), isNull(grants.revokedAt))))
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
export async function linksFor(order: { id: number; publicToken: string }, now = Date.now()): Promise<DownloadLink[]> {
  const rows = await read((db, t) =>
    all(
      db
        .select({ grant: t.downloadGrants, fileName: t.productFiles.fileName })
        .from(t.downloadGrants)
        .leftJoin(t.productFiles, eq(t.productFiles.productId, t.downloadGrants.productId))
        .where(eq(t.downloadGrants.orderId, order.id))
        .orderBy(asc(t.downloadGrants.orderLineId)),
    ),
  )
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

/** A link's grant and its product's file (null when the product has none now). */
function* findingGrant(db: Reader, t: Tables, tokenHash: string) {
  const { downloadGrants: grants, productFiles: files } = t
  return yield* get(db.select({ grant: grants, file: files }).from(grants).leftJoin(files, eq(files.productId, grants.productId)).where(eq(grants.tokenHash, tokenHash)).limit(1))
}

const refusal = (state: Exclude<LinkState, 'ready'>) => ({ ok: false as const, status: 410 as const, message: REFUSALS[state] })

/**
 * One download: counts it with a conditional update (never past the limit, however many
 * arrive at once, on however many app servers) and streams the file. The token is hostile
 * input: only its hash is looked up, and the file's path comes from the database, never from
 * the URL. The file is opened before the count is taken, outside the transaction (which
 * PostgreSQL may run again, and which must not wait on a disk): a missing file costs the
 * shopper nothing, a file replaced meanwhile is still read whole through its open descriptor,
 * and the descriptor is closed whenever the count is not taken.
 */
export async function claim(token: string, now = Date.now()): Promise<Claim> {
  if (!TOKEN.test(token)) return { ok: false, status: 404, message: 'There is no download at this address.' }
  const tokenHash = hashOf(token)
  const found = await read((db, t) => findingGrant(db, t, tokenHash))
  if (!found) return { ok: false, status: 404, message: 'There is no download at this address.' }
  const state = stateOf(found.grant, found.file !== null, now)
  if (state !== 'ready') return refusal(state)
  const file = found.file!
  const fd = await openFile(file.storageKey)
  if (fd === null) {
    log.error('downloads: the file of a product is missing', { productId: found.grant.productId, storageKey: file.storageKey })
    return refusal('withdrawn')
  }
  let counted: LinkState
  try {
    counted = await transaction(function* (tx, t): Steps<LinkState> {
      const grants = t.downloadGrants
      const { changes } = yield* run(
        tx
          .update(grants)
          .set({ downloadCount: sql`${grants.downloadCount} + 1` })
          .where(
            and(
              eq(grants.id, found.grant.id),
              isNull(grants.revokedAt),
              gt(grants.expiresAt, now),
              lt(grants.downloadCount, grants.downloadLimit),
              sql`EXISTS (SELECT 1 FROM product_files f WHERE f.product_id = ${grants.productId})`,
            ),
          ),
      )
      if (changes === 1) return 'ready'
      // not counted: say why, as the link stands now (used up by the others, most often)
      const again = yield* findingGrant(tx, t, tokenHash)
      const current = again ? stateOf(again.grant, again.file !== null, now) : 'revoked'
      return current === 'ready' ? 'used_up' : current
    })
  } catch (err) {
    fs.closeSync(fd)
    throw err
  }
  if (counted !== 'ready') {
    fs.closeSync(fd)
    return refusal(counted)
  }
  const body = Readable.toWeb(fs.createReadStream('', { fd })) as ReadableStream<Uint8Array>
  return { ok: true, body, fileName: file.fileName, contentType: file.contentType, sizeBytes: file.sizeBytes }
}

/**
 * Opens this server's copy of a product's file, made from the database's first when this
 * server has none (the file was uploaded through another app server); null when neither has it.
 */
async function openFile(storageKey: string): Promise<number | null> {
  const open = () => {
    try {
      return fs.openSync(fileAt(storageKey), 'r')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
      throw err
    }
  }
  const local = open()
  if (local !== null) return local
  fs.mkdirSync(downloadsDir(), { recursive: true, mode: 0o700 })
  if (!(await storedFiles.copyToDisk(storedFiles.downloadKey(storageKey), fileAt(storageKey), 0o600))) return null
  return open()
}

/** Content-Disposition for a download: the owner's file name, with a plain-ASCII fallback. */
export function dispositionOf(fileName: string): string {
  const ascii = fileName.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_')
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(fileName)}`
}
