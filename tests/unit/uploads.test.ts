import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { GET } from '@/app/uploads/[...path]/route'
import { resetEnv } from '@/lib/env'
import { isSafeUploadPath, readUpload } from '@/lib/uploads'

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
