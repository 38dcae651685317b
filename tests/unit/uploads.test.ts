import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { GET } from '@/app/uploads/[...path]/route'
import { transaction } from '@/db/tx'
import { resetEnv } from '@/lib/env'
import * as storedFiles from '@/lib/stored-files'
import { isSafeUploadPath, readUpload } from '@/lib/uploads'
import { freshDb, type TestDb } from '../support/db'

let storageDir: string
let outside: string
beforeEach(() => {
  storageDir = fs.mkdtempSync(path.join(os.tmpdir(), 'till-uploads-'))
  outside = fs.mkdtempSync(path.join(os.tmpdir(), 'till-outside-'))
  const uploads = path.join(storageDir, 'uploads')
  fs.mkdirSync(path.join(uploads, 'products'), { recursive: true })
  fs.writeFileSync(path.join(uploads, 'products', 'mug-1.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>')
  fs.writeFileSync(path.join(uploads, 'products', 'mug-2.PNG'), Buffer.from([0x89, 0x50, 0x4e, 0x47]))
  fs.writeFileSync(path.join(uploads, 'page.html'), '<script>alert(1)</script>')
  fs.writeFileSync(path.join(uploads, '.hidden.svg'), '<svg/>')
  fs.mkdirSync(path.join(uploads, 'folder.svg'))
  fs.writeFileSync(path.join(storageDir, 'store.sqlite3'), 'the database')
  fs.writeFileSync(path.join(outside, 'secret.svg'), '<svg>secret</svg>')
  fs.symlinkSync(path.join(outside, 'secret.svg'), path.join(uploads, 'link.svg'))
  process.env.STORAGE_DIR = storageDir
  resetEnv()
})
afterEach(() => {
  delete process.env.STORAGE_DIR
  resetEnv()
  fs.rmSync(storageDir, { recursive: true, force: true })
  fs.rmSync(outside, { recursive: true, force: true })
})

const get = (segments: string[]) => GET(new Request(`http://localhost/uploads/${segments.join('/')}`), { params: Promise.resolve({ path: segments }) })

describe('uploads.readUpload', () => {
  it('reads an upload with its content type', () => {
    const svg = readUpload('products/mug-1.svg')
    expect(svg?.contentType).toBe('image/svg+xml')
    expect(svg?.body.toString()).toBe('<svg xmlns="http://www.w3.org/2000/svg"/>')
    expect(readUpload('products/mug-2.PNG')?.contentType).toBe('image/png')
  })

  it.each([
    ['parent segments', '../store.sqlite3'],
    ['parent segments after a folder', 'products/../../store.sqlite3'],
    ['parent segments to an allowed extension', 'products/../../uploads/products/mug-1.svg'],
    ['a dot segment', './products/mug-1.svg'],
    ['an absolute path', '/etc/passwd'],
    ['a Windows drive', 'C:/uploads/mug-1.svg'],
    ['backslashes', 'products\\..\\..\\store.sqlite3'],
    ['a NUL byte', 'products/mug-1.svg\0.png'],
    ['an empty segment', 'products//mug-1.svg'],
    ['an empty path', ''],
    ['a hidden file', '.hidden.svg'],
    ['an unknown extension', 'page.html'],
    ['no extension', 'products'],
    ['a directory', 'folder.svg'],
    ['a missing file', 'products/missing.svg'],
    ['a symlink out of uploads', 'link.svg'],
  ])('refuses %s', (_name, relPath) => {
    expect(readUpload(relPath)).toBeNull()
  })

  it('refuses an absolute path, even to a real upload', () => {
    const absolute = path.join(storageDir, 'uploads', 'products', 'mug-1.svg')
    expect(fs.existsSync(absolute)).toBe(true)
    expect(readUpload(absolute)).toBeNull()
  })

  it('allows only image extensions', () => {
    for (const ext of ['svg', 'png', 'jpg', 'jpeg', 'webp', 'avif', 'JPG']) expect(isSafeUploadPath(`products/a.${ext}`)).toBe(true)
    for (const ext of ['html', 'js', 'sqlite3', 'svgz', 'tmp', 'gif']) expect(isSafeUploadPath(`products/a.${ext}`)).toBe(false)
  })
})

describe('GET /uploads/[...path]', () => {
  // a miss on disk asks the database (lib/stored-files.ts); it lives apart from STORAGE_DIR here
  let t: TestDb
  beforeEach(() => {
    t = freshDb()
  })
  afterEach(() => t.close())

  const store = (key: string, bytes: Buffer, contentType = 'image/png') => transaction((tx, tables) => storedFiles.storing(tx, tables, [storedFiles.fileToStore(key, contentType, bytes)]))
  const uploadsIn = (...segments: string[]) => fs.readdirSync(path.join(storageDir, 'uploads', ...segments))

  it('serves a picture this server does not have from the database, and keeps a whole copy on its disk', async () => {
    const bytes = Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3])
    await store('products/elsewhere.png', bytes)
    const res = await get(['products', 'elsewhere.png'])
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('image/png')
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable')
    expect(Buffer.from(await res.arrayBuffer())).toEqual(bytes)
    expect(fs.readFileSync(path.join(storageDir, 'uploads', 'products', 'elsewhere.png'))).toEqual(bytes)
    // renamed into place: no temporary file is left beside it
    expect(uploadsIn('products').sort()).toEqual(['elsewhere.png', 'mug-1.svg', 'mug-2.PNG'])
    // the next request is the disk's (the row could be gone, the copy stays right)
    await t.db.$client.prepare('DELETE FROM stored_files').run()
    expect(Buffer.from(await (await get(['products', 'elsewhere.png'])).arrayBuffer())).toEqual(bytes)
  })

  it('answers ten requests at once for a missing picture whole, leaving no temporary file', async () => {
    const bytes = Buffer.alloc(200_000, 7)
    await store('products/busy.png', bytes)
    const answers = await Promise.all(Array.from({ length: 10 }, () => get(['products', 'busy.png'])))
    // compared with equals(): toEqual walks 200 KB byte by byte
    for (const res of answers) expect(Buffer.from(await res.arrayBuffer()).equals(bytes)).toBe(true)
    expect(uploadsIn('products').filter((name) => name.startsWith('busy'))).toEqual(['busy.png'])
  })

  it('never serves nor copies bytes that do not match their checksum', async () => {
    await store('products/rotten.png', Buffer.from('right'))
    await t.db.$client.prepare(`UPDATE stored_files SET bytes = ? WHERE key = 'products/rotten.png'`).run(Buffer.from('wrong'))
    expect((await get(['products', 'rotten.png'])).status).toBe(404)
    expect(fs.existsSync(path.join(storageDir, 'uploads', 'products', 'rotten.png'))).toBe(false)
  })

  it('asks the database only for a path an upload may have: a stored row under a hostile key is never served', async () => {
    for (const key of ['page.html', '../store.sqlite3', 'products/../../store.sqlite3', '.hidden.png', 'downloads/0123456789abcdef0123456789abcdef']) await store(key, Buffer.from('stored'))
    for (const segments of [['page.html'], ['..', 'store.sqlite3'], ['products', '..', '..', 'store.sqlite3'], ['.hidden.png'], ['downloads', '0123456789abcdef0123456789abcdef']]) {
      expect((await get(segments)).status, segments.join('/')).toBe(404)
    }
    expect(fs.readFileSync(path.join(storageDir, 'store.sqlite3'), 'utf8')).toBe('the database')
  })

  it('serves an SVG with long caching and a sandboxing CSP', async () => {
    const res = await get(['products', 'mug-1.svg'])
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('image/svg+xml')
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable')
    expect(res.headers.get('content-security-policy')).toBe("default-src 'none'; style-src 'unsafe-inline'; sandbox")
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    expect(await res.text()).toBe('<svg xmlns="http://www.w3.org/2000/svg"/>')
  })

  it('serves other images without the SVG policy', async () => {
    const res = await get(['products', 'mug-2.PNG'])
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('image/png')
    expect(res.headers.get('content-security-policy')).toBeNull()
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(new Uint8Array([0x89, 0x50, 0x4e, 0x47]))
  })

  it.each([[['..', 'store.sqlite3']], [['products', '..', '..', 'store.sqlite3']], [['page.html']], [['link.svg']], [['products', 'missing.svg']]])('answers 404 for %j', async (segments) => {
    const res = await get(segments)
    expect(res.status).toBe(404)
    expect(res.headers.get('cache-control')).toBe('no-store')
  })
})
