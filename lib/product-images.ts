import 'server-only'
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import sharp from 'sharp'
import * as audit from './audit'
import { InvalidInput, NotFound } from './errors'
import { log } from './log'
import { MAX_SIDE, parseResizedPath, RESIZED_WIDTHS, resizedPath, type ResizedWidth } from './picture-sizes'
import * as products from './products'
import * as storedFiles from './stored-files'
import { checkFileName, loadUpload, readUpload, uploadsDir, type Upload } from './uploads'

// Product pictures uploaded by the owner. The bytes must start like a JPEG, PNG, WebP or GIF
// (the browser's content type and the file name are not trusted), and are decoded and
// re-encoded as JPEG, or PNG when the picture has transparency (the formats the product
// OpenGraph renderer can draw, unlike WebP): whatever else the file carried (metadata, a second payload, a script
// pretending to be a picture) does not survive. The stored name is the content's hash, so
// the same picture uploaded twice is one file, and a name is never reused for other bytes
// (the uploads route serves them as immutable). The bytes of the picture and of its smaller
// copies are stored in the database with the row that names them (lib/stored-files.ts), so
// every app server can serve them; the files written here are this server's copies.

export { checkFileName }

export const MAX_UPLOAD_BYTES = 10 * 1024 * 1024

export type ImageKind = 'jpeg' | 'png' | 'webp' | 'gif'

/** The picture format the bytes start with, or null. */
export function sniff(bytes: Uint8Array): ImageKind | null {
  const b = bytes
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg'
  if (b.length >= 8 && [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a].every((v, i) => b[i] === v)) return 'png'
  if (b.length >= 12 && String.fromCharCode(...b.slice(0, 4)) === 'RIFF' && String.fromCharCode(...b.slice(8, 12)) === 'WEBP') return 'webp'
  if (b.length >= 6 && /^GIF8[79]a$/.test(String.fromCharCode(...b.slice(0, 6)))) return 'gif'
  return null
}

export async function reencode(bytes: Uint8Array): Promise<{ data: Buffer; width: number; height: number; format: 'jpg' | 'png' }> {
  if (bytes.byteLength > MAX_UPLOAD_BYTES) throw new InvalidInput(`The picture is too large (${MAX_UPLOAD_BYTES / 1024 / 1024} MB at most).`)
  if (!sniff(bytes)) throw new InvalidInput('That file is not a picture: upload a JPEG, PNG, WebP or GIF.')
  try {
    const input = sharp(bytes, { limitInputPixels: 50_000_000, animated: false })
    const { hasAlpha } = await input.metadata()
    const resized = input.rotate().resize({ width: MAX_SIDE, height: MAX_SIDE, fit: 'inside', withoutEnlargement: true })
    const { data, info } = await (hasAlpha ? resized.png({ compressionLevel: 9 }) : resized.jpeg({ quality: 85, mozjpeg: true })).toBuffer({ resolveWithObject: true })
    return { data, width: info.width, height: info.height, format: hasAlpha ? 'png' : 'jpg' }
  } catch {
    throw new InvalidInput('That picture could not be read; it may be damaged. Upload a JPEG, PNG, WebP or GIF.')
  }
}

/**
 * Loads and starts the picture library with one tiny encode of each kind, so the owner's
 * first upload does not pay for it (it loads a native library of some 20 MB from disk). Boot
 * calls it in the background, after the store is ready.
 */
export async function warmUp(): Promise<void> {
  const pixel = sharp({ create: { width: 8, height: 8, channels: 4, background: { r: 255, g: 255, b: 255, alpha: 1 } } })
  await Promise.all([pixel.clone().jpeg({ quality: 85, mozjpeg: true }).toBuffer(), pixel.clone().png({ compressionLevel: 9 }).toBuffer()])
}

/** Writes this server's copy of an upload under its path unless it is there already (names are content hashes). */
function store(rel: string, data: Buffer): void {
  const target = path.join(/*turbopackIgnore: true*/ uploadsDir(), rel)
  if (fs.existsSync(target)) return
  fs.mkdirSync(path.dirname(target), { recursive: true })
  const tmp = `${target}.${crypto.randomBytes(4).toString('hex')}.tmp`
  fs.writeFileSync(tmp, data)
  fs.renameSync(tmp, target)
}

/** A JPEG copy at most `width` wide (never wider than the picture itself). */
function resize(data: Buffer, width: ResizedWidth): Promise<Buffer> {
  return sharp(data).resize({ width, withoutEnlargement: true }).jpeg({ quality: 80, mozjpeg: true }).toBuffer()
}

/**
 * A copy of an uploaded JPEG by its path (`products/<hash>-640w.jpg`), made from the
 * original and stored the first time it is asked for: pictures uploaded before copies were
 * made at upload get them too. Null when it is not a copy's path or the original is missing.
 */
export async function resizedUpload(rel: string): Promise<Upload | null> {
  const copy = parseResizedPath(rel)
  if (!copy) return null
  const original = await loadUpload(copy.original)
  if (!original) return null
  try {
    store(rel, await resize(original.body, copy.width))
  } catch (err) {
    log.warn('uploads: could not make a smaller copy', { path: rel, err: String(err) })
    return original
  }
  return readUpload(rel)
}

/** Checks, re-encodes and stores a picture, then adds it to the product. Nothing is kept on failure. */
export async function upload(actor: audit.Actor, productId: number, file: { name: string; bytes: Uint8Array }, alt: string): Promise<{ imageId: number; path: string }> {
  checkFileName(file.name)
  if (!(await products.get(productId))) throw new NotFound('That product')
  const image = await reencode(file.bytes)
  const hash = crypto.createHash('sha256').update(image.data).digest('hex').slice(0, 32)
  const rel = `products/${hash}.${image.format}`
  const files = [storedFiles.fileToStore(rel, image.format === 'jpg' ? 'image/jpeg' : 'image/png', image.data)]
  // A card shows a picture 160–330 px wide: the smaller copies spare a phone the full 2000 px.
  if (image.format === 'jpg') for (const width of RESIZED_WIDTHS) files.push(storedFiles.fileToStore(resizedPath(rel, width), 'image/jpeg', await resize(image.data, width)))
  for (const file of files) store(file.key, file.bytes)
  const imageId = await products.addImage(actor, productId, { path: rel, width: image.width, height: image.height, alt: alt.trim().slice(0, 200) }, files)
  return { imageId, path: rel }
}
