import fs from 'node:fs'
import path from 'node:path'
import sharp from 'sharp'
import { renderProductImage } from '@/demo/images'
import { allPictures, drawingHash, pictureSha256, PICTURE_SIZE, type Manifest } from '@/demo/pictures'

// npm run demo:pictures — draws every demo picture (demo/images.ts) and writes it as the JPEG
// an owner would upload into demo/pictures/, with manifest.json naming the drawing each was
// made from (tests/unit/demo-pictures.test.ts fails when a drawing changed and its JPEG did
// not). Run it after changing demo/images.ts or the catalog's products, and commit the folder.

async function main(): Promise<void> {
  const folder = path.join(process.cwd(), 'demo', 'pictures')
  fs.mkdirSync(folder, { recursive: true })
  const manifest: Manifest = {}
  const started = performance.now()
  let bytes = 0
  for (const picture of allPictures()) {
    const data = await sharp(Buffer.from(renderProductImage(picture.spec)))
      .resize(PICTURE_SIZE, PICTURE_SIZE)
      .jpeg({ quality: 75, mozjpeg: true })
      .toBuffer()
    fs.writeFileSync(path.join(folder, picture.file), data)
    manifest[picture.file] = { drawing: drawingHash(picture), sha256: pictureSha256(data) }
    bytes += data.length
  }
  // Pictures no product has any more go, so the folder holds what the seed uses and no more.
  for (const name of fs.readdirSync(folder)) if (name.endsWith('.jpg') && !manifest[name]) fs.rmSync(path.join(folder, name))
  fs.writeFileSync(path.join(folder, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`)
  console.log(`demo pictures: ${Object.keys(manifest).length} JPEGs, ${Math.round(bytes / 1024)} KB, in ${Math.round(performance.now() - started)} ms`)
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
