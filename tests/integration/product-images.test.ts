import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { sql } from 'drizzle-orm'
import sharp from 'sharp'
import { describe, expect, it } from 'vitest'
import { GET } from '@/app/uploads/[...path]/route'
import { getEnv } from '@/lib/env'
import { RESIZED_WIDTHS, resizedPath } from '@/lib/picture-sizes'
import * as productImages from '@/lib/product-images'
import { insertShopVariant } from '../support/engine-shop-rows'
import { ENGINES, useEngine } from '../support/engines'
import { useStorageDir } from '../support/storage-dir'

// Uploaded JPEGs get smaller copies at upload, and pictures uploaded before that get them on
// first request, on both engines (the picture's row and its bytes, in stored_files, are written
// through db/tx.ts; STORAGE_DIR/uploads holds this server's copies, decision 049).

const actor = { id: 0, email: 'system@test' }
const photo = (width: number, height: number) => sharp({ create: { width, height, channels: 3, background: { r: 120, g: 80, b: 40 } } }).jpeg().toBuffer()
const widthOf = async (file: string) => (await sharp(file).metadata()).width
const get = (rel: string) => GET(new Request(`http://localhost/uploads/${rel}`), { params: Promise.resolve({ path: rel.split('/') }) })

describe.each(ENGINES)('product pictures on %s', (name) => {
  const engine = useEngine(name)
  useStorageDir(engine)

    it('an uploaded JPEG is stored with a copy at each width, never wider than itself', async () => {
      const { productId } = await insertShopVariant(engine)
      const { path: rel } = await productImages.upload(actor, productId, { name: 'coat.jpg', bytes: await photo(1600, 1200) }, 'A coat')
      const uploads = path.join(getEnv().storageDir, 'uploads')
      expect(await widthOf(path.join(uploads, rel))).toBe(1600)
      for (const width of RESIZED_WIDTHS) expect(await widthOf(path.join(uploads, resizedPath(rel, width)))).toBe(width)

      const small = await productImages.upload(actor, productId, { name: 'mug.jpg', bytes: await photo(500, 500) }, 'A mug')
      expect(await widthOf(path.join(uploads, resizedPath(small.path, 1024)))).toBe(500)
    })

    it('stores the picture and its copies in the database with its row, so a store whose uploads folder is lost (a backup restored onto a new disk) serves them all again', async () => {
      const { productId } = await insertShopVariant(engine)
      const { path: rel } = await productImages.upload(actor, productId, { name: 'coat.jpg', bytes: await photo(1400, 1000) }, 'A coat')
      const keys = [rel, ...RESIZED_WIDTHS.map((width) => resizedPath(rel, width))]
      const uploads = path.join(getEnv().storageDir, 'uploads')
      const rows = await engine.rows<{ key: string; content_type: string; size_bytes: number | string; sha256: string; bytes: Buffer }>(sql`SELECT key, content_type, size_bytes, sha256, bytes FROM stored_files ORDER BY key`)
      expect(rows.map((r) => r.key)).toEqual([...keys].sort())
      for (const row of rows) {
        const onDisk = fs.readFileSync(path.join(uploads, row.key))
        expect(Buffer.from(row.bytes).equals(onDisk), row.key).toBe(true)
        expect([row.content_type, Number(row.size_bytes), row.sha256]).toEqual(['image/jpeg', onDisk.length, crypto.createHash('sha256').update(onDisk).digest('hex')])
      }

      fs.rmSync(uploads, { recursive: true })
      for (const key of keys) {
        const res = await get(key)
        expect(res.status, key).toBe(200)
        expect(Buffer.from(await res.arrayBuffer()).equals(Buffer.from(rows.find((r) => r.key === key)!.bytes)), key).toBe(true)
        expect(fs.existsSync(path.join(uploads, key)), key).toBe(true)
      }
    })

    it('a picture uploaded before copies existed gets each one on its first request; other paths stay 404', async () => {
      const { productId } = await insertShopVariant(engine)
      const { path: rel } = await productImages.upload(actor, productId, { name: 'old.jpg', bytes: await photo(1200, 800) }, '')
      const copy = path.join(getEnv().storageDir, 'uploads', resizedPath(rel, 640))
      // as an upload made before copies existed left it: neither on the disk nor in the database
      fs.rmSync(copy)
      await engine.rows(sql`DELETE FROM stored_files WHERE key = ${resizedPath(rel, 640)} RETURNING key`)
      const res = await get(resizedPath(rel, 640))
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toBe('image/jpeg')
      expect((await sharp(Buffer.from(await res.arrayBuffer())).metadata()).width).toBe(640)
      expect(fs.existsSync(copy)).toBe(true)
      expect((await get(rel.replace('.jpg', '-500w.jpg'))).status).toBe(404)
      expect((await get(`products/${'0'.repeat(32)}-640w.jpg`)).status).toBe(404)
    })
})
