import 'server-only'
import fs from 'node:fs'
import path from 'node:path'
import { getEnv } from './env'
import { InvalidInput } from './errors'
import * as storedFiles from './stored-files'

// Uploaded files (product pictures) are stored in the database (lib/stored-files.ts), copied
// to STORAGE_DIR/uploads on each app server that serves them, and served by
// app/uploads/[...path]. The path comes from a URL, so it is treated as hostile:
// relative, no dot segments, no hidden files, no NUL, an image extension we know, and after
// resolving symlinks still inside the uploads folder.

const CONTENT_TYPES: Record<string, string> = {
  svg: 'image/svg+xml',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  avif: 'image/avif',
}

export type Upload = { body: Buffer; contentType: string }

export function uploadsDir(): string {
  return path.join(/*turbopackIgnore: true*/ getEnv().storageDir, 'uploads')
}

/** The content type for an upload's path, or null when its extension is not allowed. */
function contentTypeFor(relPath: string): string | null {
  const match = /\.([A-Za-z0-9]+)$/.exec(relPath)
  return (match && CONTENT_TYPES[match[1]!.toLowerCase()]) ?? null
}

/** True when relPath is a plain relative path of the shape uploads may have. */
export function isSafeUploadPath(relPath: string): boolean {
  if (relPath.length === 0 || relPath.length > 512) return false
  if (relPath.includes('\0') || relPath.includes('\\')) return false
  if (relPath.startsWith('/') || path.isAbsolute(relPath) || /^[A-Za-z]:/.test(relPath)) return false
  // Every segment is a real name: no "", ".", ".." and no hidden files (temp files, .git).
  if (relPath.split('/').some((segment) => segment === '' || segment.startsWith('.'))) return false
  return contentTypeFor(relPath) !== null
}

/** Reads an uploaded file by its path relative to STORAGE_DIR/uploads; null if it may not or does not exist. */
export function readUpload(relPath: string): Upload | null {
  if (!isSafeUploadPath(relPath)) return null
  const contentType = contentTypeFor(relPath)!
  try {
    const root = fs.realpathSync(/*turbopackIgnore: true*/ uploadsDir())
    const file = fs.realpathSync(/*turbopackIgnore: true*/ path.resolve(/*turbopackIgnore: true*/ root, relPath))
    // A symlink inside uploads must not lead out of it.
    if (!file.startsWith(root + path.sep)) return null
    if (!fs.statSync(/*turbopackIgnore: true*/ file).isFile()) return null
    return { body: fs.readFileSync(/*turbopackIgnore: true*/ file), contentType }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR' || code === 'ELOOP' || code === 'ENAMETOOLONG') return null
    throw err
  }
}

/**
 * An uploaded file by its path: this server's copy on disk, or else the database's, copied to
 * disk on the way (an upload another app server took, or a disk restored without its
 * uploads); null if it may not or does not exist. A hostile path never reaches the database.
 */
export async function loadUpload(relPath: string): Promise<Upload | null> {
  const onDisk = readUpload(relPath)
  if (onDisk || !isSafeUploadPath(relPath)) return onDisk
  const body = await storedFiles.copyToDisk(relPath, path.join(/*turbopackIgnore: true*/ uploadsDir(), relPath))
  return body ? { body, contentType: contentTypeFor(relPath)! } : null
}

/**
 * Every upload on this server's disk that the uploads route would serve (no symlink, no
 * temporary file), for `npm run db:move-to-postgres` to store the files of a store made before
 * they were kept in the database.
 */
export function onDisk(): storedFiles.DiskFile[] {
  const root = uploadsDir()
  const found: storedFiles.DiskFile[] = []
  const walk = (rel: string) => {
    let entries: fs.Dirent[]
    try {
      entries = fs.readdirSync(/*turbopackIgnore: true*/ path.join(/*turbopackIgnore: true*/ root, rel), { withFileTypes: true })
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
      throw err
    }
    for (const entry of entries) {
      const child = rel ? `${rel}/${entry.name}` : entry.name
      if (entry.isDirectory() && !entry.name.startsWith('.')) walk(child)
      else if (entry.isFile() && isSafeUploadPath(child)) found.push(storedFiles.diskFile(child, path.join(/*turbopackIgnore: true*/ root, child), contentTypeFor(child)!))
    }
  }
  walk('')
  return found
}

/** A file name from the browser is only shown back, never used as a path; still, refuse a hostile one. */
export function checkFileName(name: string): void {
  if (name.length > 200) throw new InvalidInput('The file name is too long (200 characters at most).')
  if (/[/\\\0]/.test(name) || name.split(/[/\\]/).some((part) => part === '..') || name.includes('..')) {
    throw new InvalidInput(`The file name “${name.slice(0, 80)}” is not allowed: it may not contain “..”, slashes or control characters.`)
  }
}
