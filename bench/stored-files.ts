// What keeping uploaded files in the database costs (docs/decisions/049-files-in-the-database.md),
// hand-run, in one process so both sides see the same machine:
//   tsx --conditions=react-server bench/stored-files.ts [rounds]
// - a picture upload on SQLite: lib/product-images.upload as a whole (re-encode, three
//   smaller copies, the disk copies, the row), and its transaction alone with the four files'
//   bytes in it (this release) and without them (the release before), alternating;
// - reading a file on SQLite and on a PostgreSQL started here (durable settings, no
//   replica): the first read on a server whose disk lacks it (database -> local copy, temp
//   file + rename) and a read of the copy on disk, at 27 KB (a card's picture) and 1 MB.
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import pg from 'pg'
import sharp from 'sharp'
import { startPostgres } from '../tests/support/postgres'
import type { StoredFile } from '@/lib/stored-files'
import { withScratchStore } from './lib/scratch-store'

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const fmt = (ms: number) => `${ms.toFixed(2)} ms`

async function main() {
  const rounds = Number(process.argv[2] ?? 20)
  const storageDir = fs.mkdtempSync(path.join(os.tmpdir(), 'till-bench-files-'))
  Object.assign(process.env, { STORAGE_DIR: storageDir, PAYMENTS: 'emulator', LOG_LEVEL: 'error' })
  // named so: React's hooks lint reads any use… call as a hook
  const { transaction, usePostgres: runBodiesOn } = await import('@/db/tx')
  const { migrate: migratePg } = await import('@/db/pg/migrate')
  const { postgresEngine } = await import('@/db/pg/steps')
  const productImages = await import('@/lib/product-images')
  const products = await import('@/lib/products')
  const storedFiles = await import('@/lib/stored-files')
  const uploads = await import('@/lib/uploads')
  const actor = { id: 0, email: 'bench@till.test' }
  const photograph = (i: number) =>
    sharp({ create: { width: 1200, height: 900, channels: 3, background: '#777', noise: { type: 'gaussian', mean: 110 + (i % 7) * 12, sigma: 40 } } })
      .blur(2)
      .jpeg({ quality: 90 })
      .toBuffer()

  /** Median ms of a cold read (no copy on disk) and a warm one, per size, on the engine in use. */
  const reads = async (label: string) => {
    for (const size of [27 * 1024, 1024 * 1024]) {
      const key = `products/${crypto.randomBytes(16).toString('hex')}.png`
      await transaction((tx, t) => storedFiles.storing(tx, t, [storedFiles.fileToStore(key, 'image/png', crypto.randomBytes(size))]))
      const onDisk = path.join(uploads.uploadsDir(), key)
      const cold: number[] = []
      const warm: number[] = []
      for (let r = 0; r < rounds; r++) {
        fs.rmSync(onDisk, { force: true })
        let start = performance.now()
        if (!(await uploads.loadUpload(key))) throw new Error('not found')
        cold.push(performance.now() - start)
        start = performance.now()
        if (!(await uploads.loadUpload(key))) throw new Error('not found')
        warm.push(performance.now() - start)
      }
      console.log(`${label.padEnd(10)} read ${String(size / 1024).padStart(5)} KB: first on a server without it ${fmt(median(cold))}, from its disk copy ${fmt(median(warm))}`)
    }
  }

  await withScratchStore({}, async (db) => {
    const productId = Number(db.$client.prepare(`INSERT INTO products (slug, title) VALUES ('bench', 'Bench') RETURNING id`).pluck().get())
    const whole: number[] = []
    const withBytes: number[] = []
    const without: number[] = []
    for (let r = 0; r < rounds; r++) {
      const bytes = await photograph(r)
      let start = performance.now()
      await productImages.upload(actor, productId, { name: 'photo.jpg', bytes }, '')
      whole.push(performance.now() - start)
      // the same transaction with and without the four files' bytes (new keys each time)
      const files = (await Promise.all([bytes, ...[320, 640, 1024].map((w) => sharp(bytes).resize({ width: w }).jpeg().toBuffer())])).map((b, i) =>
        storedFiles.fileToStore(`products/${crypto.randomBytes(16).toString('hex')}-${i}.jpg`, 'image/jpeg', b),
      )
      const image = { path: files[0]!.key, width: 1200, height: 900, alt: '' }
      const pair: [number[], StoredFile[]][] = r % 2 ? [[without, []], [withBytes, files]] : [[withBytes, files], [without, []]]
      for (const [into, stored] of pair) {
        start = performance.now()
        await products.addImage(actor, productId, image, stored)
        into.push(performance.now() - start)
      }
      if (r === 0) console.log(`upload of a ${Math.round(bytes.length / 1024)} KB camera JPEG, stored as ${files.map((f) => `${Math.round(f.sizeBytes / 1024)} KB`).join(' + ')}`)
    }
    console.log(`sqlite     upload, whole (lib/product-images.upload): ${fmt(median(whole))}`)
    console.log(`sqlite     its transaction with the bytes ${fmt(median(withBytes))}, without ${fmt(median(without))} (+${fmt(median(withBytes) - median(without))})`)
    console.log(`sqlite     store file after ${rounds * 3} pictures: ${(fs.statSync(db.$client.name).size / 1024 / 1024).toFixed(1)} MB`)
    await reads('sqlite')
  })

  const database = await startPostgres({ settings: { fsync: 'on', full_page_writes: 'on', synchronous_commit: 'on', shared_buffers: '128MB' } })
  const pool = new pg.Pool({ connectionString: database.url, max: 4 })
  try {
    await migratePg(pool)
    runBodiesOn(postgresEngine(pool))
    await reads('postgres')
  } finally {
    runBodiesOn(undefined)
    await pool.end()
    await database.stop()
    fs.rmSync(storageDir, { recursive: true, force: true })
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err)
    process.exit(1)
  },
)
