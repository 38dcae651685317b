import 'server-only'
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { eq, inArray } from 'drizzle-orm'
import { get, read, run, type Steps, type Tables, type Writer } from '@/db/tx'
import { log } from './log'

// The bytes of what the owner uploads (product pictures and their smaller copies, digital
// products' files), kept in the database, table stored_files (docs/decisions/049-files-in-
// the-database.md): every app server reaches them there, a backup of the store carries them,
// and a move to PostgreSQL copies them. The file on a server's disk (STORAGE_DIR/uploads,
// STORAGE_DIR/downloads) is a copy of the row, made where the upload was taken and, on every
// other server, the first time the file is asked for. A key names the same bytes for ever
// (pictures by their hash, downloads by a random key), so a copy on a disk is never stale.

export type StoredFile = { key: string; contentType: string; sizeBytes: number; sha256: string; bytes: Buffer; createdAt: number }

/** A digital product's file's key: never an upload's path, which ends in a picture's extension. */
export const downloadKey = (storageKey: string) => `downloads/${storageKey}`

const sha256Of = (bytes: Uint8Array) => crypto.createHash('sha256').update(bytes).digest('hex')

/**
 * A file ready for `storing`, its checksum taken here, outside the transaction: on PostgreSQL
 * the body may run again, and hashing 50 MB each time is not the transaction's work.
 */
export function fileToStore(key: string, contentType: string, bytes: Uint8Array, now = Date.now()): StoredFile {
  const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  return { key, contentType, sizeBytes: buffer.byteLength, sha256: sha256Of(buffer), bytes: buffer, createdAt: now }
}

/**
 * Stores files as a step of the transaction that writes the row naming them, so no row ever
 * names bytes the database lacks. A key already stored keeps its row: its bytes are the same.
 */
export function* storing(tx: Writer, t: Tables, files: StoredFile[]): Steps<void> {
  for (const file of files) yield* run(tx.insert(t.storedFiles).values(file).onConflictDoNothing())
}

/** Forgets files no row names any more (a digital product's replaced or removed file). */
export function* removing(tx: Writer, t: Tables, keys: string[]): Steps<void> {
  if (keys.length > 0) yield* run(tx.delete(t.storedFiles).where(inArray(t.storedFiles.key, keys)))
}

// Requests for one file that this server lacks, at once (a page of pictures on a cold
// server): one read of the row, one copy written.
const inFlight = new Map<string, Promise<Buffer | null>>()

/**
 * The bytes stored under `key`, read from the database and copied to `target` on this
 * server's disk (a temporary file renamed into place, so a reader never sees half a file); null
 * when there is no such row. The copy is a cache: when the disk refuses it (full, read-only)
 * the bytes are still answered. Bytes that do not match their checksum are never copied nor
 * answered.
 */
export function copyToDisk(key: string, target: string, mode = 0o644): Promise<Buffer | null> {
  let pending = inFlight.get(target)
  if (!pending) {
    pending = fetchAndCopy(key, target, mode).finally(() => inFlight.delete(target))
    inFlight.set(target, pending)
  }
  return pending
}

async function fetchAndCopy(key: string, target: string, mode: number): Promise<Buffer | null> {
  const row = await read((db, t) => get(db.select({ sha256: t.storedFiles.sha256, bytes: t.storedFiles.bytes }).from(t.storedFiles).where(eq(t.storedFiles.key, key)).limit(1)))
  if (!row) return null
  const bytes = Buffer.from(row.bytes)
  if (sha256Of(bytes) !== row.sha256) {
    log.error('stored-files: the bytes do not match their checksum; not served', { key })
    return null
  }
  try {
    fs.mkdirSync(path.dirname(target), { recursive: true })
    const tmp = `${target}.${crypto.randomBytes(4).toString('hex')}.tmp`
    fs.writeFileSync(tmp, bytes, { mode })
    fs.renameSync(tmp, target)
  } catch (err) {
    log.warn('stored-files: could not keep a copy on this server; answered from the database', { key, err: String(err) })
  }
  return bytes
}

/** A file on a store's disk that stored_files may lack, read only when it is copied. */
export type DiskFile = { key: string; read: () => StoredFile }

/** The file at `file`, stored under `key`, as a DiskFile; its time is the file's last change. */
export function diskFile(key: string, file: string, contentType: string): DiskFile {
  return {
    key,
    read: () => fileToStore(key, contentType, fs.readFileSync(/*turbopackIgnore: true*/ file), Math.floor(fs.statSync(/*turbopackIgnore: true*/ file).mtimeMs)),
  }
}
