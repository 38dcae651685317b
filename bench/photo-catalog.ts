// The bench's catalog with uploaded photographs: every active product of a store's database
// gets a JPEG photograph through the admin's own upload path (lib/product-images.upload:
// re-encoded, stored by hash, with its smaller copies), moved first so cards and pages show
// it. Run as its own process beside the running store, like a second release would:
//   tsx --conditions=react-server bench/photo-catalog.ts <storage dir> [how many]
// The photographs are made here (a blurred noise field, 1200 × 900, a few hundred KB like a
// camera JPEG after the upload's re-encoding), so the bench needs no picture files.
import sharp from 'sharp'

async function main() {
  const [storageDir, limit] = process.argv.slice(2)
  if (!storageDir) throw new Error('usage: photo-catalog.ts <storage dir> [how many]')
  process.env.STORAGE_DIR = storageDir
  ;(await import('@/lib/platform/boot')).bootConfig()
  const { getDb } = await import('@/db')
  const productImages = await import('@/lib/product-images')
  const products = await import('@/lib/products')
  const actor = { id: 0, email: 'bench@till.test' }
  const ids = getDb().$client.prepare(`SELECT id FROM products WHERE status = 'active' ORDER BY id LIMIT ?`).pluck().all(Number(limit ?? 1000)) as number[]
  const photograph = async (productId: number, i: number) => {
    const bytes = await sharp({ create: { width: 1200, height: 900, channels: 3, background: '#777', noise: { type: 'gaussian', mean: 110 + (i % 7) * 12, sigma: 40 } } })
      .blur(2)
      .jpeg({ quality: 90 })
      .toBuffer()
    const { imageId } = await productImages.upload(actor, productId, { name: `photo-${productId}.jpg`, bytes }, 'A photograph')
    const count = (await products.get(productId))?.images.length ?? 1
    for (let up = 1; up < count; up++) await products.moveImage(actor, imageId, 'up')
  }
  // two at a time: sharp works on libuv's threads, one per core here
  let next = 0
  const worker = async () => {
    while (next < ids.length) {
      const i = next++
      await photograph(ids[i]!, i)
    }
  }
  await Promise.all([worker(), worker()])
  process.stdout.write(String(ids.length))
}

main().catch((err) => {
  process.stderr.write(`photo-catalog: ${err instanceof Error ? err.stack : String(err)}\n`)
  process.exit(1)
})
