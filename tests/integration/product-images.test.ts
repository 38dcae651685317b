import fs from 'node:fs'
import path from 'node:path'
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
// first request, on both engines (the picture's row is written through db/tx.ts; the files
// under STORAGE_DIR/uploads).

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

    it('a picture uploaded before copies existed gets each one on its first request; other paths stay 404', async () => {
      const { productId } = await insertShopVariant(engine)
      const { path: rel } = await productImages.upload(actor, productId, { name: 'old.jpg', bytes: await photo(1200, 800) }, '')
      const copy = path.join(getEnv().storageDir, 'uploads', resizedPath(rel, 640))
      fs.rmSync(copy) // as an upload made before this change left it
      const res = await get(resizedPath(rel, 640))
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toBe('image/jpeg')
      expect((await sharp(Buffer.from(await res.arrayBuffer())).metadata()).width).toBe(640)
      expect(fs.existsSync(copy)).toBe(true)
      expect((await get(rel.replace('.jpg', '-500w.jpg'))).status).toBe(404)
      expect((await get(`products/${'0'.repeat(32)}-640w.jpg`)).status).toBe(404)
    })
})
