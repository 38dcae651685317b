import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { CATALOG, type DemoProduct } from './catalog'
import { renderProductImage, SWATCHES, type ProductImageSpec, type SwatchName } from './images'

// The demo's pictures are what an owner uploads: JPEGs. They are drawn as SVG (demo/images.ts)
// and turned into JPEGs once, by `npm run demo:pictures`, into demo/pictures/, which the
// repository keeps beside a manifest. Seeding copies them, so it costs no drawing at boot.
//
// Why not serve the drawings: a browser gives every SVG <img> a document of its own, with its
// own style, layout and filters painted on the page's main thread. A home page showing
// thirteen of them spent about a third of its main-thread time on them (Lighthouse's trace on
// this machine: 1.35 s of tasks with the drawings, 0.90 s with the same pictures as JPEGs,
// which decode off the main thread). They are small already (PICTURE_SIZE), so they are sent
// as they are: no smaller copies, no `srcset` (which costs every product page's HTML about
// 300 bytes a picture, and the product page has ten).

/**
 * The JPEGs' side, in pixels. A card is at most 330 px wide and a phone's product page about
 * 410 px, so 640 px stays sharp on a phone's screen (about 1.6 pixels a point) at a third of
 * the bytes of the 800 px drawing: 7–27 KB a picture, 12 KB on average.
 */
export const PICTURE_SIZE = 640

export type DemoPicture = {
  /** its file in demo/pictures/ */
  file: string
  productSlug: string
  position: number
  swatch: SwatchName
  spec: ProductImageSpec
}

/** A product's pictures: one per colour, plus a close-up when there are fewer than three. */
export function picturesOf(product: DemoProduct): DemoPicture[] {
  const colours = product.colours ?? []
  const shots: { swatch: SwatchName; view: ProductImageSpec['view'] }[] = colours.map((swatch) => ({ swatch, view: 'front' }))
  if (colours.length === 0) {
    shots.push({ swatch: product.swatch ?? 'Stone', view: 'front' })
    if ((product.views ?? 2) === 2) shots.push({ swatch: product.swatch ?? 'Stone', view: 'detail' })
  } else if (colours.length < 3) {
    shots.push({ swatch: colours[0]!, view: 'detail' })
  }
  return shots.map((shot, position) => ({
    file: `${product.slug}-${position + 1}.jpg`,
    productSlug: product.slug,
    position,
    swatch: shot.swatch,
    spec: { kind: product.kind, swatch: SWATCHES[shot.swatch], title: product.title, view: shot.view, seed: `${product.slug}:${shot.swatch}`, labelLines: product.labelLines },
  }))
}

export function allPictures(): DemoPicture[] {
  return CATALOG.flatMap(picturesOf)
}

/** What demo/pictures/manifest.json holds per file: the drawing it was made from, and its own hash. */
export type ManifestEntry = { drawing: string; sha256: string }
export type Manifest = Record<string, ManifestEntry>

const sha256 = (data: string | Buffer) => crypto.createHash('sha256').update(data).digest('hex')

/** The hash of a picture's drawing, so a changed drawing with a stale JPEG is caught. */
export function drawingHash(picture: DemoPicture): string {
  return sha256(renderProductImage(picture.spec)).slice(0, 32)
}

/** The folder of the JPEGs: in the standalone server cwd is .next/standalone, where tracing copied it. */
export function picturesFolder(): string {
  const candidates = [path.join(/*turbopackIgnore: true*/ process.cwd(), 'demo', 'pictures'), path.join(/*turbopackIgnore: true*/ __dirname, 'pictures')]
  const found = candidates.find((dir) => fs.existsSync(path.join(/*turbopackIgnore: true*/ dir, 'manifest.json')))
  if (!found) throw new Error(`demo: no pictures (manifest.json) under ${candidates.join(' or ')}; run npm run demo:pictures`)
  return found
}

/** A picture's bytes and the upload path they are stored under (products/<file>). */
export function readPicture(folder: string, picture: DemoPicture): { data: Buffer; rel: string } {
  return { data: fs.readFileSync(path.join(/*turbopackIgnore: true*/ folder, picture.file)), rel: uploadPathOf(picture) }
}

/** The upload path a picture is stored under, and its product_images row names. */
export function uploadPathOf(picture: DemoPicture): string {
  return `products/${picture.file}`
}

export function pictureSha256(data: Buffer): string {
  return sha256(data)
}
