import fs from 'node:fs'
import path from 'node:path'
import sharp from 'sharp'
import { describe, expect, it } from 'vitest'
import { allPictures, drawingHash, PICTURE_SIZE, pictureSha256, picturesFolder, type Manifest } from '@/demo/pictures'

// demo/pictures/ is made by `npm run demo:pictures` from the drawings in demo/images.ts and
// kept in the repository: a drawing or a product changed without running it fails here.

const folder = picturesFolder()
const manifest = JSON.parse(fs.readFileSync(path.join(folder, 'manifest.json'), 'utf8')) as Manifest

describe('demo/pictures', () => {
  it('holds one JPEG per picture of the catalog, made from its drawing as it is now', () => {
    const pictures = allPictures()
    expect(Object.keys(manifest).sort()).toEqual(pictures.map((p) => p.file).sort())
    const stale = pictures.filter((p) => manifest[p.file]?.drawing !== drawingHash(p)).map((p) => p.file)
    expect(stale, 'drawings changed since npm run demo:pictures').toEqual([])
  })

  it('holds exactly the files the manifest names, with their bytes', () => {
    const files = fs.readdirSync(folder).filter((name) => name !== 'manifest.json')
    expect(files.sort()).toEqual(Object.keys(manifest).sort())
    for (const [file, entry] of Object.entries(manifest)) expect(pictureSha256(fs.readFileSync(path.join(folder, file))), file).toBe(entry.sha256)
  })

  it('are square JPEGs of the size the seed records', async () => {
    for (const file of Object.keys(manifest)) {
      const meta = await sharp(path.join(folder, file)).metadata()
      expect([meta.format, meta.width, meta.height], file).toEqual(['jpeg', PICTURE_SIZE, PICTURE_SIZE])
    }
  })
})
