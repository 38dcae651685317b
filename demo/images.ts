import fs from 'node:fs'
import path from 'node:path'

// Product pictures for the demo catalog, drawn here as SVG so a fresh install has a shop
// that looks finished without a network, a photo bank or an image library. Each picture is
// an 800×800 flat-lay or still life: a soft backdrop tinted by the product's colour, the item
// drawn with paths and shaded with two gradients, and a quiet label along the bottom.
// Output is a pure function of its input, so two processes seeding at once write the
// same bytes.

export const IMAGE_SIZE = 800

export type ImageKind =
  | 'jacket'
  | 'parka'
  | 'anorak'
  | 'fleece'
  | 'coat'
  | 'vest'
  | 'tee'
  | 'pocket-tee'
  | 'henley'
  | 'breton'
  | 'hoodie'
  | 'sweatshirt'
  | 'shirt'
  | 'cable-sweater'
  | 'merino-sweater'
  | 'cap'
  | 'beanie'
  | 'bucket-hat'
  | 'socks'
  | 'bandana'
  | 'tote'
  | 'backpack'
  | 'pouch'
  | 'mug'
  | 'bottle'
  | 'notebook'
  | 'candle'
  | 'blanket'
  | 'towels'

/** A product colour: its name as shoppers see it, the cloth, and an optional trim colour. */
export type Swatch = { name: string; hex: string; trim?: string }

// The colours the demo catalog is made in. Names are what variants carry in options.Colour.
export const SWATCHES = {
  Navy: { name: 'Navy', hex: '#24324f' },
  Olive: { name: 'Olive', hex: '#5f6639' },
  Rust: { name: 'Rust', hex: '#b0532f' },
  Black: { name: 'Black', hex: '#222326' },
  Sage: { name: 'Sage', hex: '#98aa8d' },
  Duck: { name: 'Duck', hex: '#b48a57' },
  Indigo: { name: 'Indigo', hex: '#2f3d6c' },
  Sky: { name: 'Sky', hex: '#8db6d8' },
  Sand: { name: 'Sand', hex: '#d3bf98' },
  Oat: { name: 'Oat', hex: '#e2d5bd', trim: '#8a7457' },
  Forest: { name: 'Forest', hex: '#2f4b3b', trim: '#d9cdb4' },
  White: { name: 'White', hex: '#f7f6f2' },
  Clay: { name: 'Clay', hex: '#c07b5d' },
  Ecru: { name: 'Ecru', hex: '#ece2cc' },
  'Heather Grey': { name: 'Heather Grey', hex: '#a9abaa' },
  Charcoal: { name: 'Charcoal', hex: '#3b3e43' },
  Cream: { name: 'Cream', hex: '#efe6d1' },
  Moss: { name: 'Moss', hex: '#6b7a45' },
  'Light Blue': { name: 'Light Blue', hex: '#bcd3ea' },
  Khaki: { name: 'Khaki', hex: '#bfae80' },
  Natural: { name: 'Natural', hex: '#e6dac0', trim: '#a4835a' },
  Tobacco: { name: 'Tobacco', hex: '#7d5a3c', trim: '#4a3120' },
  'Navy Stripe': { name: 'Navy Stripe', hex: '#f1ead9', trim: '#24324f' },
  'Red Stripe': { name: 'Red Stripe', hex: '#f1ead9', trim: '#b23a33' },
  'Speckled Blue': { name: 'Speckled Blue', hex: '#3d5f8f', trim: '#1c2740' },
  Stone: { name: 'Stone', hex: '#cfc7b8' },
  Kraft: { name: 'Kraft', hex: '#b8925f' },
  Amber: { name: 'Amber', hex: '#9a5a26' },
  'Bottle Green': { name: 'Bottle Green', hex: '#3f5b3a' },
  Linen: { name: 'Linen', hex: '#d8ccb5', trim: '#b0532f' },
} as const satisfies Record<string, Swatch>

export type SwatchName = keyof typeof SWATCHES

export type ProductImageSpec = {
  kind: ImageKind
  swatch: Swatch
  /** Shown, small, along the bottom edge. */
  title: string
  /** front: the whole item; detail: a close-up of its most telling part. */
  view: 'front' | 'detail'
  /** Seeds the scattered marks (enamel speckles) so each product's are its own. */
  seed: string
  /** Printed on labels the item carries (candle jars). */
  labelLines?: string[]
}

// ---------------------------------------------------------------------------------------
// Colour

type Rgb = [number, number, number]

function toRgb(hex: string): Rgb {
  const n = Number.parseInt(hex.slice(1), 16)
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255]
}

function toHex([r, g, b]: Rgb): string {
  return `#${[r, g, b].map((v) => Math.round(Math.min(255, Math.max(0, v))).toString(16).padStart(2, '0')).join('')}`
}

/** a moved toward b by t (0..1). */
function mix(a: string, b: string, t: number): string {
  const x = toRgb(a)
  const y = toRgb(b)
  return toHex([x[0] + (y[0] - x[0]) * t, x[1] + (y[1] - x[1]) * t, x[2] + (y[2] - x[2]) * t])
}

// WCAG relative luminance, 0 (black) .. 1 (white).
function luminance(hex: string): number {
  const [r, g, b] = toRgb(hex).map((v) => {
    const c = v / 255
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4
  }) as Rgb
  return 0.2126 * r + 0.7152 * g + 0.0722 * b
}

type Palette = {
  base: string
  trim: string
  shade: string
  interior: string
  outline: string
  line: string
  hardware: string
  bgTop: string
  bgBottom: string
  ink: string
  isLight: boolean
  isDark: boolean
}

function palette(swatch: Swatch): Palette {
  const base = swatch.hex
  const lum = luminance(base)
  const isLight = lum > 0.5
  const isDark = lum < 0.06
  // Light things sit on warm stone so they read; everything else on paper tinted by itself.
  const bgTop = isLight ? '#e9e3d8' : mix(base, '#f8f5f0', 0.87)
  const bgBottom = isLight ? '#d6cebf' : mix(base, '#ece6dd', 0.74)
  return {
    base,
    trim: swatch.trim ?? (isLight ? mix(base, '#000000', 0.4) : mix(base, '#ffffff', 0.72)),
    shade: mix(base, '#000000', isDark ? 0.25 : 0.12),
    interior: mix(base, '#000000', isDark ? 0.45 : 0.4),
    outline: isDark ? mix(base, '#000000', 0.55) : mix(base, '#000000', isLight ? 0.26 : 0.34),
    line: isDark ? mix(base, '#ffffff', 0.2) : mix(base, '#000000', isLight ? 0.2 : 0.3),
    hardware: lum < 0.1 ? '#8e9092' : '#2c2d30',
    bgTop,
    bgBottom,
    ink: mix(bgBottom, '#000000', 0.6),
    isLight,
    isDark,
  }
}

// ---------------------------------------------------------------------------------------
// Drawing helpers

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!)
}

/** A filled shape with the sheen over it and an outline around it. */
function solid(d: string, fill: string, p: Palette, opts: { sheen?: string; outline?: string; width?: number } = {}): string {
  const sheen = opts.sheen ?? 'sheen'
  return `<path d="${d}" fill="${fill}"/><path d="${d}" fill="url(#${sheen})"/><path d="${d}" fill="none" stroke="${opts.outline ?? p.outline}" stroke-width="${opts.width ?? 3}" stroke-linejoin="round"/>`
}

function stroke(d: string, colour: string, width: number, extra = ''): string {
  const cap = extra.includes('stroke-linecap') ? '' : ' stroke-linecap="round"'
  return `<path d="${d}" fill="none" stroke="${colour}" stroke-width="${width}"${cap} stroke-linejoin="round" ${extra}/>`
}

function stitch(d: string, p: Palette, opacity = 0.75): string {
  return stroke(d, p.line, 2, `stroke-dasharray="7 6" opacity="${opacity}"`)
}

/** The same drawing reflected about the centre line: garments are symmetric. */
function both(svg: string): string {
  return `${svg}<g transform="matrix(-1 0 0 1 800 0)">${svg}</g>`
}

function clipped(id: string, d: string, content: string): string {
  return `<clipPath id="${id}"><path d="${d}"/></clipPath><g clip-path="url(#${id})">${content}</g>`
}

// Deterministic scatter: mulberry32 seeded by an FNV-1a hash of a string.
function random(seed: string): () => number {
  let h = 2166136261
  for (let i = 0; i < seed.length; i++) h = Math.imul(h ^ seed.charCodeAt(i), 16777619)
  let a = h >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const r1 = (n: number) => Math.round(n * 10) / 10

// ---------------------------------------------------------------------------------------
// Garments, laid flat. One body with options; the coordinates are for an 800 square.

type Garment = {
  sleeves: 'short' | 'long' | 'none'
  neck: 'crew' | 'hood' | 'collar' | 'wide-collar' | 'stand'
  hem: number
  zip?: 'full' | 'half'
  placket?: 'shirt' | 'coat' | 'henley'
  pockets?: ('chest' | 'patch' | 'kangaroo' | 'flap' | 'chest-zip' | 'welt')[]
  rib?: boolean
  cuffs?: boolean
  texture?: 'waffle' | 'knit' | 'cable' | 'fleece' | 'stripes' | 'quilt' | 'baffles'
  drawcords?: boolean
  toggles?: boolean
}

const GARMENTS: Partial<Record<ImageKind, Garment>> = {
  jacket: { sleeves: 'long', neck: 'hood', hem: 648, zip: 'full', pockets: ['flap', 'chest-zip'], toggles: true, cuffs: true },
  parka: { sleeves: 'long', neck: 'hood', hem: 664, zip: 'full', pockets: ['flap'], texture: 'baffles', cuffs: true },
  anorak: { sleeves: 'long', neck: 'stand', hem: 636, zip: 'half', pockets: ['kangaroo'], toggles: true, cuffs: true },
  fleece: { sleeves: 'long', neck: 'stand', hem: 632, zip: 'half', pockets: ['chest'], texture: 'fleece', rib: true },
  coat: { sleeves: 'long', neck: 'wide-collar', hem: 660, placket: 'coat', pockets: ['patch', 'chest'], cuffs: true },
  vest: { sleeves: 'none', neck: 'stand', hem: 630, zip: 'full', pockets: ['welt'], texture: 'quilt' },
  tee: { sleeves: 'short', neck: 'crew', hem: 626 },
  'pocket-tee': { sleeves: 'short', neck: 'crew', hem: 630, pockets: ['chest'] },
  henley: { sleeves: 'long', neck: 'crew', hem: 630, placket: 'henley', texture: 'waffle', rib: false, cuffs: true },
  breton: { sleeves: 'long', neck: 'crew', hem: 626, texture: 'stripes' },
  hoodie: { sleeves: 'long', neck: 'hood', hem: 636, pockets: ['kangaroo'], rib: true, drawcords: true },
  sweatshirt: { sleeves: 'long', neck: 'crew', hem: 632, rib: true },
  shirt: { sleeves: 'long', neck: 'collar', hem: 640, placket: 'shirt', pockets: ['chest'], cuffs: true },
  'cable-sweater': { sleeves: 'long', neck: 'crew', hem: 634, texture: 'cable', rib: true },
  'merino-sweater': { sleeves: 'long', neck: 'crew', hem: 628, texture: 'knit', rib: true },
}

function bodyPath(g: Garment): string {
  const h = g.hem
  const hemCurve = `Q 400 ${h + 8}`
  const neck = 'M 335 182 C 360 212 440 212 465 182'
  if (g.sleeves === 'long') {
    return `${neck} L 548 200 C 575 210 590 228 598 262 L 656 548 L 600 566 L 552 336 L 552 ${h} ${hemCurve} 248 ${h} L 248 336 L 200 566 L 144 548 L 202 262 C 210 228 225 210 252 200 Z`
  }
  if (g.sleeves === 'short') {
    return `${neck} L 548 200 C 572 208 590 222 604 242 L 662 330 L 604 368 L 552 322 L 552 ${h} ${hemCurve} 248 ${h} L 248 322 L 196 368 L 138 330 L 196 242 C 210 222 228 208 252 200 Z`
  }
  return `${neck} L 532 196 C 522 262 540 318 568 344 L 568 ${h} ${hemCurve} 232 ${h} L 232 344 C 260 318 278 262 268 196 Z`
}

function garment(g: Garment, p: Palette): string {
  const body = bodyPath(g)
  const h = g.hem
  const out: string[] = []

  // Behind the body: the hood lies flat above the shoulders.
  const hood = 'M 316 208 C 296 128 340 86 400 86 C 460 86 504 128 484 208 Z'
  if (g.neck === 'hood') out.push(solid(hood, p.base, p))

  out.push(`<path d="${body}" fill="${p.base}"/>`)
  out.push(clipped('body', body, texture(g, p)))
  out.push(`<path d="${body}" fill="url(#sheen)"/>`)

  // Seams: where sleeves are set in, and the hems.
  if (g.sleeves === 'long') out.push(both(stroke('M 252 201 C 240 252 242 300 248 336', p.line, 2, 'opacity=".55"')))
  if (g.sleeves === 'short') {
    out.push(both(stroke('M 252 201 C 244 250 244 290 248 322', p.line, 2, 'opacity=".55"')))
    out.push(both(stitch('M 148 318 L 206 355', p)))
  }
  if (g.rib) {
    const band = `M 248 ${h - 46} L 552 ${h - 46} L 552 ${h} Q 400 ${h + 8} 248 ${h} Z`
    out.push(`<path d="${band}" fill="${p.shade}" opacity=".55"/>`)
    out.push(clipped('hemrib', band, ribLines(248, h - 46, 552, h + 10, 11, p)))
    out.push(stroke(`M 248 ${h - 46} L 552 ${h - 46}`, p.line, 2, 'opacity=".7"'))
  } else if (g.sleeves !== 'none') {
    out.push(stitch(`M 250 ${h - 18} Q 400 ${h - 10} 550 ${h - 18}`, p))
  }
  if (g.sleeves === 'long' && (g.rib || g.cuffs)) {
    const cuff = 'M 153 506 L 209 524 L 200 566 L 144 548 Z'
    // One clip, used by both cuffs: userSpaceOnUse follows each cuff's own (mirrored) space.
    if (g.rib) out.push(`<clipPath id="cuffrib"><path d="${cuff}"/></clipPath>`)
    out.push(
      both(
        `<path d="${cuff}" fill="${p.shade}" opacity="${g.rib ? 0.55 : 0.35}"/>` +
          (g.rib ? `<g clip-path="url(#cuffrib)">${ribLines(140, 500, 215, 570, 10, p, -12)}</g>` : stitch('M 150 520 L 206 538', p)) +
          stroke('M 153 506 L 209 524', p.line, 2, 'opacity=".7"'),
      ),
    )
    if (g.toggles) out.push(both(`<rect x="166" y="486" width="34" height="20" rx="5" transform="rotate(17 183 496)" fill="${p.shade}" stroke="${p.outline}" stroke-width="2"/>`))
  }
  if (g.sleeves === 'none') {
    // Bound armholes
    out.push(both(stroke('M 268 197 C 278 262 260 318 232 344', p.shade, 9)))
    out.push(stitch(`M 234 ${h - 18} Q 400 ${h - 10} 566 ${h - 18}`, p))
  }

  // Pockets
  for (const pocket of g.pockets ?? []) out.push(pocketShape(pocket, g, p))

  // Fronts: plackets and zips
  if (g.placket === 'shirt' || g.placket === 'coat') {
    const top = g.placket === 'coat' ? 240 : 226
    out.push(`<path d="M 388 ${top} L 412 ${top} L 412 ${h + 4} L 388 ${h + 4} Z" fill="${p.shade}" opacity=".35"/>`)
    out.push(stitch(`M 389 ${top} L 389 ${h}`, p, 0.6) + stitch(`M 411 ${top} L 411 ${h}`, p, 0.6))
    const count = g.placket === 'coat' ? 5 : 7
    const step = (h - top - 40) / (count - 1)
    for (let i = 0; i < count; i++) out.push(button(400, top + 22 + i * step, g.placket === 'coat' ? 9 : 6.5, p))
  }
  if (g.placket === 'henley') {
    out.push(`<path d="M 388 196 L 412 196 L 412 334 L 388 334 Z" fill="${p.shade}" opacity=".5"/>`)
    out.push(stitch('M 388 334 L 412 334', p))
    for (const y of [226, 266, 306]) out.push(button(400, y, 6.5, p))
  }
  if (g.zip) {
    const top = g.neck === 'stand' ? 148 : 198
    const end = g.zip === 'full' ? h + 2 : 356
    out.push(stroke(`M 400 ${top} L 400 ${end}`, p.shade, 12))
    out.push(stroke(`M 400 ${top + 4} L 400 ${end}`, p.hardware, 5, 'stroke-dasharray="2.5 2.5" stroke-linecap="butt"'))
    out.push(`<rect x="394" y="${top + 8}" width="12" height="30" rx="4" fill="${p.hardware}"/><rect x="397.5" y="${top + 26}" width="5" height="8" rx="2" fill="${p.bgTop}" opacity=".8"/>`)
    if (g.zip === 'half') out.push(stitch(`M 388 356 Q 400 364 412 356`, p))
  }

  // Necklines
  if (g.neck === 'crew') {
    out.push(`<path d="M 335 182 C 362 167 438 167 465 182 C 440 212 360 212 335 182 Z" fill="${p.interior}"/>`)
    out.push(stroke('M 338 188 C 362 222 438 222 462 188', p.shade, 15))
    out.push(stroke('M 334 196 C 360 234 440 234 466 196', p.line, 2, 'opacity=".55"'))
    if (g.rib) out.push(`<path d="M 388 222 L 400 244 L 412 222 Z" fill="${p.shade}" stroke="${p.line}" stroke-width="2" opacity=".8"/>`)
  }
  if (g.neck === 'hood') {
    const opening = 'M 338 204 C 336 152 362 126 400 126 C 438 126 464 152 462 204 C 440 236 360 236 338 204 Z'
    out.push(`<path d="${opening}" fill="${p.interior}"/>`)
    out.push(stroke('M 340 204 C 338 154 364 130 400 130 C 436 130 462 154 460 204', p.shade, 10))
    out.push(stroke('M 338 204 C 360 236 440 236 462 204', p.outline, 3))
    if (g.drawcords) {
      for (const x of [372, 428]) {
        const dx = x < 400 ? -6 : 6
        out.push(`<circle cx="${x}" cy="222" r="5" fill="${p.interior}" stroke="${p.line}" stroke-width="2"/>`)
        out.push(stroke(`M ${x} 222 C ${x + dx} 270 ${x - dx} 300 ${x + dx} 336`, p.trim, 6))
        out.push(`<rect x="${x + dx - 4}" y="332" width="8" height="18" rx="3" fill="${p.hardware}"/>`)
      }
    }
    if (g.zip) out.push(stroke('M 336 200 C 320 170 330 120 360 102', p.line, 2, 'opacity=".5"'))
  }
  if (g.neck === 'stand') {
    const collar = 'M 330 150 C 360 142 440 142 470 150 L 468 194 C 440 206 360 206 332 194 Z'
    out.push(`<path d="M 330 150 C 360 160 440 160 470 150 C 440 140 360 140 330 150 Z" fill="${p.interior}"/>`)
    out.push(solid(collar, p.base, p))
    out.push(stitch('M 334 186 C 360 197 440 197 466 186', p, 0.6))
    if (g.zip) {
      out.push(stroke('M 400 148 L 400 204', p.shade, 12))
      out.push(stroke('M 400 152 L 400 204', p.hardware, 5, 'stroke-dasharray="2.5 2.5" stroke-linecap="butt"'))
      out.push(`<rect x="394" y="156" width="12" height="30" rx="4" fill="${p.hardware}"/>`)
    }
  }
  if (g.neck === 'collar' || g.neck === 'wide-collar') {
    const wide = g.neck === 'wide-collar'
    out.push(`<path d="M 335 182 C 362 164 438 164 465 182 L 460 198 C 440 188 360 188 340 198 Z" fill="${p.interior}"/>`)
    out.push(`<path d="M 333 180 C 360 160 440 160 467 180 L 466 190 C 440 172 360 172 334 190 Z" fill="${p.shade}"/>`)
    const leaf = wide ? 'M 330 176 C 312 214 316 258 330 294 L 399 232 C 376 216 354 198 342 178 Z' : 'M 334 178 C 326 206 334 236 350 264 L 399 224 C 380 212 360 198 346 180 Z'
    out.push(both(solid(leaf, p.base, p, { width: 2.5 })))
    out.push(both(stitch(wide ? 'M 336 188 C 324 222 326 254 336 280' : 'M 340 190 C 336 212 340 234 352 252', p, 0.55)))
    if (!wide) out.push(both(button(352, 246, 4, p)))
  }

  out.push(`<path d="${body}" fill="none" stroke="${p.outline}" stroke-width="3" stroke-linejoin="round"/>`)
  return out.join('')
}

function button(x: number, y: number, r: number, p: Palette): string {
  const face = p.isLight ? mix(p.base, '#ffffff', 0.5) : p.isDark ? '#4a4b4e' : mix(p.base, '#000000', 0.45)
  return `<circle cx="${r1(x)}" cy="${r1(y)}" r="${r}" fill="${face}" stroke="${p.outline}" stroke-width="1.5"/><circle cx="${r1(x - r / 3)}" cy="${r1(y)}" r="${r / 7 + 0.4}" fill="${p.outline}"/><circle cx="${r1(x + r / 3)}" cy="${r1(y)}" r="${r / 7 + 0.4}" fill="${p.outline}"/>`
}

function ribLines(x0: number, y0: number, x1: number, y1: number, gap: number, p: Palette, slant = 0): string {
  let d = ''
  for (let x = x0 + gap / 2; x < x1 + Math.abs(slant); x += gap) d += `M ${r1(x)} ${y0} L ${r1(x + slant)} ${y1} `
  return stroke(d, p.line, 2, 'opacity=".35"')
}

function pocketShape(kind: NonNullable<Garment['pockets']>[number], g: Garment, p: Palette): string {
  switch (kind) {
    case 'chest': {
      const d = 'M 446 268 L 518 268 L 518 338 Q 518 350 506 352 L 482 358 L 458 352 Q 446 350 446 338 Z'
      return solid(d, p.base, p, { width: 2 }) + stitch('M 446 282 L 518 282', p, 0.6)
    }
    case 'patch':
      return both(solid('M 268 456 L 370 456 L 370 568 Q 370 580 358 580 L 280 580 Q 268 580 268 568 Z', p.base, p, { width: 2 }) + stitch('M 268 472 L 370 472', p, 0.6))
    case 'kangaroo': {
      const top = g.hem - 170
      const bottom = g.hem - (g.rib ? 54 : 40)
      const d = `M 318 ${top} L 482 ${top} L 528 ${top + 70} L 528 ${bottom} L 272 ${bottom} L 272 ${top + 70} Z`
      return `<path d="${d}" fill="url(#sheen)"/>${stroke(d, p.line, 2.5, 'opacity=".8"')}${stroke(`M 318 ${top} L 272 ${top + 70}`, p.outline, 4)}${stroke(`M 482 ${top} L 528 ${top + 70}`, p.outline, 4)}`
    }
    case 'flap': {
      const y = g.hem - 170
      return both(
        `${stroke(`M 276 ${y + 34} L 370 ${y + 34}`, p.outline, 3)}${solid(`M 272 ${y} L 374 ${y} L 374 ${y + 30} Q 323 ${y + 44} 272 ${y + 30} Z`, p.base, p, { width: 2.5 })}${stitch(`M 280 ${y + 22} Q 323 ${y + 33} 366 ${y + 22}`, p, 0.6)}`,
      )
    }
    case 'chest-zip':
      return `${stroke('M 436 268 L 506 304', p.shade, 9)}${stroke('M 436 268 L 506 304', p.hardware, 3.5, 'stroke-dasharray="2 2" stroke-linecap="butt"')}<rect x="502" y="300" width="9" height="24" rx="3" transform="rotate(27 506 304)" fill="${p.hardware}"/>`
    case 'welt':
      return both(`${stroke('M 276 470 L 298 552', p.shade, 10)}${stroke('M 276 470 L 298 552', p.outline, 2.5)}`)
  }
}

function texture(g: Garment, p: Palette): string {
  const w = 800
  switch (g.texture) {
    case 'waffle':
      return `<rect width="${w}" height="${w}" fill="url(#waffle)"/>`
    case 'knit':
      return `<rect width="${w}" height="${w}" fill="url(#knit)"/>`
    case 'fleece':
      return `<rect width="${w}" height="${w}" fill="url(#fleece)"/>`
    case 'stripes': {
      let d = ''
      for (let y = 232; y < g.hem - 10; y += 38) d += `<rect x="0" y="${y}" width="${w}" height="15" fill="${p.trim}"/>`
      return d
    }
    case 'cable': {
      let cables = `<rect width="${w}" height="${w}" fill="url(#knit)"/>`
      for (const x of [318, 400, 482]) {
        let a = `M ${x} 226`
        let b = `M ${x} 226`
        for (let y = 226; y < g.hem - 50; y += 44) {
          a += ` C ${x + 24} ${y + 11} ${x + 24} ${y + 33} ${x} ${y + 44}`
          b += ` C ${x - 24} ${y + 11} ${x - 24} ${y + 33} ${x} ${y + 44}`
        }
        cables += stroke(a, p.line, 7, 'opacity=".45"') + stroke(b, p.line, 7, 'opacity=".45"')
        cables += stroke(`M ${x - 36} 226 L ${x - 36} ${g.hem - 50} M ${x + 36} 226 L ${x + 36} ${g.hem - 50}`, p.line, 3, 'opacity=".35" stroke-dasharray="4 5"')
      }
      return cables
    }
    case 'quilt': {
      let d = ''
      for (let y = 250; y < g.hem - 20; y += 48) d += `M 200 ${y} Q 400 ${y + 10} 600 ${y} `
      return `${stroke(d, p.line, 2, 'stroke-dasharray="6 5" opacity=".8"')}<rect width="${w}" height="${w}" fill="url(#channels)"/>`
    }
    case 'baffles': {
      let d = ''
      for (let y = 262; y < g.hem - 20; y += 58) d += `M 100 ${y} Q 400 ${y + 12} 700 ${y} `
      return `<rect width="${w}" height="${w}" fill="url(#baffles)"/>${stroke(d, p.outline, 2.5, 'opacity=".8"')}`
    }
    default:
      return ''
  }
}

// ---------------------------------------------------------------------------------------
// Hats, socks, scarves

function cap(p: Palette): string {
  const crown = 'M 222 470 C 222 318 300 226 400 226 C 500 226 578 318 578 470 Z'
  const brim = 'M 212 462 C 290 442 510 442 588 462 C 642 476 656 522 620 550 C 560 592 240 592 180 550 C 144 522 158 476 212 462 Z'
  const badge = p.isLight ? '#3b3a36' : '#efe6d2'
  const glyph = p.isLight ? '#efe6d2' : mix(p.base, '#000000', 0.1)
  return [
    solid(crown, p.base, p),
    stroke('M 400 230 C 397 320 397 400 400 470', p.line, 2.5, 'opacity=".7"'),
    both(stroke('M 396 232 C 320 272 286 360 284 470', p.line, 2.5, 'opacity=".7"')),
    both(stitch('M 388 236 C 386 320 386 400 388 466', p, 0.5)),
    both(`<circle cx="320" cy="318" r="5" fill="${p.interior}" stroke="${p.line}" stroke-width="2"/>`),
    `<circle cx="400" cy="228" r="12" fill="${p.shade}" stroke="${p.outline}" stroke-width="2.5"/>`,
    `<rect x="352" y="340" width="96" height="56" rx="7" fill="${badge}"/>`,
    `<path d="M 370 384 L 390 358 L 402 372 L 412 362 L 430 384 Z" fill="${glyph}"/><circle cx="420" cy="354" r="5" fill="${glyph}"/>`,
    stitch('M 358 346 L 442 346 L 442 390 L 358 390 Z', { ...p, line: glyph }, 0.6),
    `<path d="M 212 462 C 290 442 510 442 588 462 C 560 478 240 478 212 462 Z" fill="${p.interior}" opacity=".5"/>`,
    solid(brim, p.base, p),
    stitch('M 196 514 C 270 558 530 558 604 514', p),
    stitch('M 190 530 C 270 572 530 572 610 530', p),
  ].join('')
}

function beanie(p: Palette): string {
  const dome = 'M 254 452 C 246 300 310 194 400 194 C 490 194 554 300 546 452 Z'
  const cuff = 'M 234 438 Q 400 420 566 438 L 572 566 Q 400 586 228 566 Z'
  let ribs = ''
  for (let k = -5; k <= 5; k++) ribs += `M 400 200 Q ${r1(400 + k * 26)} 300 ${r1(400 + k * 30)} 452 `
  return [
    solid(dome, p.base, p),
    clipped('dome', dome, stroke(ribs, p.line, 3, 'opacity=".4"')),
    `<path d="M 384 198 Q 400 184 416 198" fill="none" stroke="${p.outline}" stroke-width="3"/>`,
    solid(cuff, p.base, p),
    clipped('cuff', cuff, ribLines(220, 420, 580, 590, 13, p)),
    stroke('M 234 446 Q 400 428 566 446', p.outline, 2, 'opacity=".5"'),
    `<rect x="366" y="482" width="68" height="44" rx="5" fill="#8a5a3a" stroke="#5e3b24" stroke-width="2"/>`,
    stroke('M 372 488 L 428 488 L 428 520 L 372 520 Z', '#e8d7bd', 1.5, 'stroke-dasharray="4 4" opacity=".8"'),
  ].join('')
}

function bucketHat(p: Palette): string {
  const crown = 'M 298 432 C 300 360 304 302 316 266 C 360 242 440 242 484 266 C 496 302 500 360 502 432 Z'
  const brim = 'M 298 414 C 218 428 150 468 130 522 C 200 574 600 574 670 522 C 650 468 582 428 502 414 C 462 440 338 440 298 414 Z'
  return [
    solid(crown, p.base, p),
    `<path d="M 316 266 C 360 286 440 286 484 266 C 440 250 360 250 316 266 Z" fill="${p.shade}" opacity=".6"/>`,
    stroke('M 316 266 C 360 286 440 286 484 266', p.outline, 2.5),
    stitch('M 312 290 C 360 306 440 306 488 290', p, 0.6),
    both(`<circle cx="336" cy="340" r="5" fill="${p.interior}" stroke="${p.line}" stroke-width="2"/>`),
    `<path d="M 300 392 C 360 412 440 412 500 392 L 502 426 C 440 446 360 446 298 426 Z" fill="${p.shade}"/>`,
    solid(brim, p.base, p),
    stitch('M 156 516 C 230 556 570 556 644 516', p),
    stitch('M 178 500 C 250 534 550 534 622 500', p),
    stitch('M 204 484 C 270 512 530 512 596 484', p),
  ].join('')
}

function socks(p: Palette): string {
  const sock = 'M 286 150 L 404 150 L 404 430 C 404 472 420 494 452 508 L 560 550 C 614 572 612 646 556 652 L 392 652 C 322 652 286 610 286 548 Z'
  const heel = 'M 286 500 C 286 600 326 652 396 652 L 400 598 C 352 594 334 560 340 500 Z'
  const toe = 'M 522 536 L 560 550 C 614 572 612 646 556 652 L 522 652 C 544 618 544 568 522 536 Z'
  const one = (id: string, fill: string) =>
    [
      solid(sock, fill, p),
      clipped(
        id,
        sock,
        `<path d="${heel}" fill="${p.trim}"/><path d="${toe}" fill="${p.trim}"/><rect x="280" y="254" width="130" height="18" fill="${p.trim}"/><rect x="280" y="280" width="130" height="6" fill="${p.trim}"/>` +
          ribLines(280, 150, 410, 236, 10, p) +
          `<rect width="800" height="800" fill="url(#knit)"/>`,
      ),
      stroke('M 286 236 L 404 236', p.line, 2, 'opacity=".7"'),
      `<path d="${sock}" fill="none" stroke="${p.outline}" stroke-width="3" stroke-linejoin="round"/>`,
    ].join('')
  return `<g transform="translate(-92 -26)">${one('sock-back', p.shade)}</g><g transform="translate(48 40)">${one('sock-front', p.base)}</g>`
}

function bandana(p: Palette): string {
  const ink = p.trim
  const square = 'M 400 124 L 676 400 L 400 676 L 124 400 Z'
  let petals = ''
  for (let i = 0; i < 8; i++) petals += `<ellipse cx="400" cy="372" rx="9" ry="24" transform="rotate(${i * 45} 400 400)" fill="${ink}"/>`
  const drop = (angle: number) =>
    `<path d="M 400 212 C 428 236 426 270 400 282 C 378 272 376 244 400 212 Z" transform="rotate(${angle} 400 400)" fill="${ink}" opacity=".9"/><circle cx="400" cy="258" r="6" transform="rotate(${angle} 400 400)" fill="${p.base}"/>`
  return [
    solid(square, p.base, p),
    `<path d="M 400 158 L 642 400 L 400 642 L 158 400 Z" fill="none" stroke="${ink}" stroke-width="6"/>`,
    `<path d="M 400 182 L 618 400 L 400 618 L 182 400 Z" fill="none" stroke="${ink}" stroke-width="7" stroke-dasharray="0 16" stroke-linecap="round"/>`,
    `<circle cx="400" cy="400" r="68" fill="none" stroke="${ink}" stroke-width="5"/>`,
    petals,
    `<circle cx="400" cy="400" r="10" fill="${p.base}" stroke="${ink}" stroke-width="4"/>`,
    [0, 90, 180, 270].map(drop).join(''),
    [45, 135, 225, 315].map((a) => `<circle cx="400" cy="268" r="9" transform="rotate(${a} 400 400)" fill="${ink}"/>`).join(''),
    `<path d="${square}" fill="url(#sheen)"/>`,
  ].join('')
}

// ---------------------------------------------------------------------------------------
// Bags

function tote(p: Palette): string {
  const body = 'M 232 318 L 568 318 L 592 660 L 208 660 Z'
  const strap = p.isDark ? mix(p.base, '#ffffff', 0.08) : p.trim
  const box = (x: number) => `<rect x="${x}" y="318" width="28" height="100" fill="${strap}"/>${stroke(`M ${x + 4} 346 L ${x + 24} 346 L ${x + 24} 410 L ${x + 4} 410 Z M ${x + 4} 346 L ${x + 24} 410 M ${x + 24} 346 L ${x + 4} 410`, p.isDark ? '#8d8e90' : mix(strap, '#ffffff', 0.5), 1.6, 'stroke-dasharray="4 3"')}`
  return [
    stroke('M 322 324 C 322 164 478 164 478 324', mix(strap, '#000000', 0.25), 26),
    solid(body, p.base, p),
    `<rect x="232" y="318" width="336" height="30" fill="${p.shade}" opacity=".4"/>`,
    stitch('M 234 342 L 566 342', p),
    stroke('M 300 324 C 300 150 500 150 500 324', mix(strap, '#000000', 0.2), 30),
    stroke('M 300 324 C 300 150 500 150 500 324', strap, 24),
    stroke('M 300 324 C 300 150 500 150 500 324', mix(strap, '#ffffff', 0.35), 1.6, 'stroke-dasharray="4 4"'),
    box(286),
    box(486),
    `<g opacity=".55" fill="none" stroke="${p.line}" stroke-width="4"><circle cx="400" cy="518" r="58"/><path d="M 358 546 L 386 508 L 402 528 L 416 512 L 442 546" stroke-linejoin="round"/><circle cx="420" cy="492" r="9"/></g>`,
    both(stroke('M 222 616 L 246 660', p.line, 2, 'opacity=".5"')),
  ].join('')
}

function backpack(p: Palette): string {
  const body = 'M 262 300 L 538 300 Q 556 300 557 318 L 566 626 Q 566 664 528 664 L 272 664 Q 234 664 234 626 L 243 318 Q 244 300 262 300 Z'
  const roll = 'M 258 214 Q 258 194 278 194 L 522 194 Q 542 194 542 214 L 546 300 L 254 300 Z'
  const pocket = 'M 286 456 L 514 456 Q 530 456 530 472 L 534 616 Q 534 636 514 636 L 286 636 Q 266 636 266 616 L 270 472 Q 270 456 286 456 Z'
  const webbing = p.isDark ? '#3a3b3f' : mix(p.base, '#000000', 0.45)
  return [
    both(stroke('M 250 330 C 222 390 222 500 246 580', mix(p.base, '#000000', 0.3), 30)),
    stroke('M 378 196 C 378 164 422 164 422 196', webbing, 9),
    solid(body, p.base, p),
    solid(roll, p.base, p),
    stroke('M 258 232 Q 400 244 542 232', p.line, 2.5, 'opacity=".7"'),
    stroke('M 256 262 Q 400 276 544 262', p.line, 2.5, 'opacity=".7"'),
    stitch('M 246 318 L 554 318', p, 0.5),
    solid(pocket, p.base, p, { width: 2.5 }),
    stroke('M 286 482 L 514 482', p.hardware, 4, 'stroke-dasharray="2 2" stroke-linecap="butt"'),
    `<path d="M 498 480 L 506 480 L 510 516 L 494 516 Z" fill="${p.hardware}"/>`,
    `<rect x="386" y="204" width="28" height="196" rx="3" fill="${webbing}"/>`,
    stitch('M 390 214 L 410 214 M 390 384 L 410 384', { ...p, line: mix(webbing, '#ffffff', 0.4) }, 0.8),
    `<rect x="374" y="386" width="52" height="34" rx="8" fill="${p.hardware}" stroke="${mix(p.hardware, '#000000', 0.4)}" stroke-width="2"/><rect x="386" y="396" width="28" height="14" rx="3" fill="${mix(p.hardware, '#ffffff', 0.25)}"/>`,
    `<rect x="378" y="550" width="44" height="26" rx="4" fill="${p.isLight ? '#3b3a36' : '#efe6d2'}" opacity=".9"/>`,
  ].join('')
}

function pouch(p: Palette): string {
  const body = 'M 196 384 L 604 384 Q 626 384 628 406 L 642 616 Q 644 646 614 646 L 186 646 Q 156 646 158 616 L 172 406 Q 174 384 196 384 Z'
  const leather = p.trim
  return [
    stroke('M 172 452 C 112 462 112 566 164 576', mix(leather, '#000000', 0.3), 22),
    stroke('M 172 452 C 112 462 112 566 164 576', leather, 16),
    solid(body, p.base, p),
    clipped('pouch', body, `<rect x="140" y="586" width="520" height="80" fill="${leather}"/>${stitch('M 150 594 L 650 594', { ...p, line: '#e9d9bf' }, 0.7)}`),
    stroke('M 220 466 C 300 456 330 492 420 480 M 250 540 C 330 522 420 560 560 532', p.line, 2, 'opacity=".25"'),
    stroke('M 196 404 L 606 404', p.shade, 12),
    stroke('M 196 404 L 606 404', '#a98a52', 4.5, 'stroke-dasharray="2.5 2.5" stroke-linecap="butt"'),
    `<path d="M 566 396 L 578 396 L 598 460 L 576 466 Z" fill="${leather}" stroke="${mix(leather, '#000000', 0.3)}" stroke-width="2"/><rect x="564" y="392" width="16" height="14" rx="3" fill="#a98a52"/>`,
  ].join('')
}

// ---------------------------------------------------------------------------------------
// Home and camp

function mug(p: Palette, seed: string): string {
  const body = 'M 262 322 L 538 322 L 538 596 C 538 622 520 634 496 634 L 304 634 C 280 634 262 622 262 596 Z'
  const rim = p.trim
  const rand = random(seed)
  let specks = ''
  for (let i = 0; i < 140; i++) {
    const x = 262 + rand() * 276
    const y = 330 + rand() * 300
    const r = 1 + rand() * 2.6
    specks += `<circle cx="${r1(x)}" cy="${r1(y)}" r="${r1(r)}"/>`
  }
  const speckColour = p.isLight ? mix(p.base, '#000000', 0.55) : '#ffffff'
  return [
    stroke('M 530 382 C 634 378 636 538 530 540', rim, 34),
    stroke('M 530 382 C 634 378 636 538 530 540', p.base, 26),
    stroke('M 530 382 C 634 378 636 538 530 540', '#ffffff', 3, 'opacity=".3" transform="translate(-2 -4)"'),
    `<path d="${body}" fill="${p.base}"/>`,
    clipped('mug', body, `<g fill="${speckColour}" opacity=".55">${specks}</g>`),
    `<path d="${body}" fill="url(#cyl)"/>`,
    `<path d="${body}" fill="none" stroke="${p.outline}" stroke-width="2.5"/>`,
    stroke('M 264 604 C 270 628 290 634 304 634 L 496 634 C 510 634 530 628 536 604', rim, 8),
    `<ellipse cx="400" cy="322" rx="138" ry="30" fill="${mix(p.base, '#ffffff', p.isLight ? 0 : 0.85)}"/>`,
    `<ellipse cx="400" cy="330" rx="124" ry="20" fill="#000000" opacity=".08"/>`,
    `<ellipse cx="400" cy="322" rx="138" ry="30" fill="none" stroke="${rim}" stroke-width="9"/>`,
  ].join('')
}

function bottle(p: Palette): string {
  const body = 'M 362 212 L 438 212 C 438 236 470 250 482 280 C 490 298 490 318 490 340 L 490 640 C 490 664 472 676 448 676 L 352 676 C 328 676 310 664 310 640 L 310 340 C 310 318 310 298 318 280 C 330 250 362 236 362 212 Z'
  const capColour = p.isDark ? '#3a3b3e' : '#2b2c2f'
  return [
    stroke('M 372 134 C 372 92 428 92 428 134', capColour, 14),
    `<rect x="350" y="126" width="100" height="76" rx="16" fill="${capColour}"/><rect x="350" y="126" width="100" height="76" rx="16" fill="url(#cyl)"/>`,
    stroke('M 356 150 L 444 150 M 356 176 L 444 176', '#000000', 2, 'opacity=".35"'),
    `<rect x="360" y="198" width="80" height="18" rx="3" fill="#c9cbce"/><rect x="360" y="198" width="80" height="18" rx="3" fill="url(#cyl)"/>`,
    `<path d="${body}" fill="${p.base}"/>`,
    clipped('bottle', body, `<rect x="300" y="650" width="200" height="40" fill="#c9cbce"/><rect x="300" y="650" width="200" height="40" fill="url(#cyl)"/>`),
    `<path d="${body}" fill="url(#cyl)"/>`,
    `<rect x="332" y="300" width="14" height="330" rx="7" fill="#ffffff" opacity=".22"/>`,
    `<path d="${body}" fill="none" stroke="${p.outline}" stroke-width="2.5"/>`,
    `<g opacity=".6" fill="none" stroke="${p.isLight ? p.line : mix(p.base, '#ffffff', 0.55)}" stroke-width="3"><circle cx="400" cy="452" r="30"/><path d="M 380 460 Q 390 448 400 460 T 420 460" stroke-linecap="round"/></g>`,
  ].join('')
}

function notebook(p: Palette): string {
  const cover = 'M 262 168 L 538 168 Q 550 168 550 180 L 550 596 Q 550 608 538 608 L 262 608 Q 250 608 250 596 L 250 180 Q 250 168 262 168 Z'
  const label = p.isLight || luminance(p.base) > 0.2 ? '#f5efe2' : mix(p.base, '#000000', 0.3)
  return [
    `<g transform="rotate(-6 400 400)">`,
    `<rect x="262" y="176" width="296" height="440" rx="12" fill="#f4efe3" stroke="#d6cdbb" stroke-width="2"/>`,
    stroke('M 552 190 L 552 600 M 556 194 L 556 604', '#d6cdbb', 1.5),
    solid(cover, p.base, p),
    stroke('M 276 170 L 276 606', p.line, 2, 'opacity=".4"'),
    `<rect x="318" y="238" width="164" height="64" rx="4" fill="${label}"/>`,
    stroke('M 340 262 L 460 262 M 340 282 L 420 282', p.line, 2.5, 'opacity=".55"'),
    `<path d="M 436 606 L 436 680 L 447 666 L 458 680 L 458 606 Z" fill="#b0532f"/>`,
    `<rect x="500" y="166" width="14" height="444" fill="#2b2b2e"/><rect x="500" y="166" width="14" height="444" fill="url(#cyl)"/>`,
    `</g>`,
    `<g transform="rotate(14 620 420)"><rect x="608" y="190" width="20" height="330" fill="#e2b045"/><rect x="608" y="190" width="20" height="330" fill="url(#cyl)"/><rect x="608" y="180" width="20" height="26" fill="#c9cbce"/><rect x="608" y="164" width="20" height="18" rx="5" fill="#d98a7a"/><path d="M 608 520 L 628 520 L 618 556 Z" fill="#e8cfa6"/><path d="M 614 542 L 622 542 L 618 556 Z" fill="#3b3a36"/></g>`,
  ].join('')
}

function candle(p: Palette, lines: string[]): string {
  const jar = 'M 294 372 L 506 372 L 506 618 C 506 640 490 652 468 652 L 332 652 C 310 652 294 640 294 618 Z'
  const text = lines
    .map((line, i) => {
      const isTitle = i > 0 && i < lines.length - 1
      const y = 486 + (i === 0 ? 0 : isTitle ? 12 + i * 26 : 44 + i * 26)
      return `<text x="400" y="${y}" text-anchor="middle" font-family="Georgia, 'Times New Roman', serif" font-size="${isTitle ? 21 : 11}" letter-spacing="${isTitle ? 1.5 : 2.5}" fill="#3a342c">${esc(line)}</text>`
    })
    .join('')
  return [
    `<circle cx="400" cy="290" r="150" fill="url(#glow)"/>`,
    `<path d="${jar}" fill="${p.base}" opacity=".94"/>`,
    `<path d="M 300 388 L 500 388 L 500 612 C 500 632 486 644 466 644 L 334 644 C 314 644 300 632 300 612 Z" fill="#000000" opacity=".18"/>`,
    `<path d="${jar}" fill="url(#cyl)"/>`,
    `<rect x="314" y="392" width="12" height="236" rx="6" fill="#ffffff" opacity=".25"/>`,
    `<path d="${jar}" fill="none" stroke="${p.outline}" stroke-width="2.5"/>`,
    `<ellipse cx="400" cy="372" rx="106" ry="18" fill="#efe5d1"/><ellipse cx="400" cy="372" rx="106" ry="18" fill="none" stroke="${mix(p.base, '#ffffff', 0.45)}" stroke-width="5"/>`,
    stroke('M 400 372 L 400 340', '#2b2622', 4),
    `<path d="M 400 258 C 428 294 430 328 400 346 C 370 328 372 294 400 258 Z" fill="url(#flame)"/><path d="M 400 300 C 410 316 410 334 400 342 C 390 334 390 316 400 300 Z" fill="#fff6d8"/>`,
    `<rect x="324" y="452" width="152" height="132" rx="4" fill="#f3ecdc"/>`,
    stroke('M 334 462 L 466 462 L 466 574 L 334 574 Z', '#3a342c', 1, 'opacity=".35"'),
    text,
  ].join('')
}

function blanket(p: Palette): string {
  const body = 'M 196 326 L 604 326 Q 640 326 640 362 L 640 564 Q 640 600 604 600 L 196 600 Q 160 600 160 564 L 160 362 Q 160 326 196 326 Z'
  const check = mix(p.base, '#000000', p.isLight ? 0.16 : 0.28)
  let plaid = ''
  for (const y of [350, 440, 530]) plaid += `<rect x="140" y="${y}" width="520" height="34" fill="${check}" opacity=".55"/>`
  for (const x of [214, 334, 454, 574]) plaid += `<rect x="${x}" y="300" width="34" height="320" fill="${check}" opacity=".55"/>`
  for (const y of [367, 457, 547]) plaid += `<rect x="140" y="${y - 1.5}" width="520" height="3" fill="${p.trim}" opacity=".8"/>`
  for (const x of [231, 351, 471, 591]) plaid += `<rect x="${x - 1.5}" y="300" width="3" height="320" fill="${p.trim}" opacity=".8"/>`
  let fringe = ''
  for (let y = 338; y <= 590; y += 9) fringe += `M 640 ${y} L ${662 + (y % 3) * 2} ${y + 3} `
  return [
    `<path d="M 180 612 L 620 612 Q 650 612 650 590 L 650 580 L 150 580 L 150 590 Q 150 612 180 612 Z" fill="${p.shade}"/>`,
    stroke(fringe, p.shade, 3),
    `<path d="${body}" fill="${p.base}"/>`,
    clipped('blanket', body, plaid),
    `<path d="${body}" fill="url(#sheen)"/>`,
    stroke('M 162 418 Q 400 430 638 418', p.outline, 2.5, 'opacity=".55"'),
    stroke('M 162 510 Q 400 522 638 510', p.outline, 2.5, 'opacity=".55"'),
    `<path d="${body}" fill="none" stroke="${p.outline}" stroke-width="3"/>`,
  ].join('')
}

function towels(p: Palette): string {
  const towel = (y: number, h: number, dx: number) => {
    const d = `M ${220 + dx} ${y} L ${580 + dx} ${y} Q ${600 + dx} ${y} ${600 + dx} ${y + 20} L ${600 + dx} ${y + h - 20} Q ${600 + dx} ${y + h} ${580 + dx} ${y + h} L ${220 + dx} ${y + h} Q ${200 + dx} ${y + h} ${200 + dx} ${y + h - 20} L ${200 + dx} ${y + 20} Q ${200 + dx} ${y} ${220 + dx} ${y} Z`
    return [
      `<path d="${d}" fill="${p.base}"/>`,
      clipped(`towel-${y}`, d, `<rect x="${500 + dx}" y="0" width="14" height="800" fill="${p.trim}"/><rect x="${522 + dx}" y="0" width="5" height="800" fill="${p.trim}"/><rect width="800" height="800" fill="url(#waffle)" opacity=".5"/>`),
      `<path d="${d}" fill="url(#sheen)"/>`,
      stroke(`M ${202 + dx} ${y + h / 2} Q ${400 + dx} ${y + h / 2 + 6} ${598 + dx} ${y + h / 2}`, p.outline, 2, 'opacity=".4"'),
      `<path d="${d}" fill="none" stroke="${p.outline}" stroke-width="3"/>`,
    ].join('')
  }
  return [
    towel(470, 150, 10),
    towel(330, 150, -10),
  ].join('')
}

// ---------------------------------------------------------------------------------------
// The picture

// Where the detail view looks, per kind, and what it shows (for alt text).
const DETAIL: Record<ImageKind, { at: [number, number]; shows: string }> = {
  jacket: { at: [420, 250], shows: 'the peaked hood, storm zip and chest pocket' },
  parka: { at: [400, 300], shows: 'the hood and box-baffled down channels' },
  anorak: { at: [400, 250], shows: 'the stand collar and half zip' },
  fleece: { at: [430, 260], shows: 'the stand collar, half zip and chest pocket' },
  coat: { at: [380, 300], shows: 'the collar, buttons and patch pockets' },
  vest: { at: [400, 300], shows: 'the stitched quilting channels and collar' },
  tee: { at: [400, 250], shows: 'the rib collar and shoulder seams' },
  'pocket-tee': { at: [460, 300], shows: 'the chest pocket and collar' },
  henley: { at: [400, 260], shows: 'the waffle texture and three-button placket' },
  breton: { at: [400, 260], shows: 'the stripes and crew neck' },
  hoodie: { at: [400, 240], shows: 'the hood, drawcords and aglets' },
  sweatshirt: { at: [400, 260], shows: 'the rib collar and V insert' },
  shirt: { at: [420, 260], shows: 'the button-down collar, placket and pocket' },
  'cable-sweater': { at: [400, 360], shows: 'the cable knit panels' },
  'merino-sweater': { at: [400, 260], shows: 'the fine knit and rib collar' },
  cap: { at: [400, 380], shows: 'the woven patch, eyelets and stitched brim' },
  beanie: { at: [400, 480], shows: 'the ribbed cuff and leather patch' },
  'bucket-hat': { at: [400, 400], shows: 'the eyelets and stitched brim' },
  socks: { at: [430, 440], shows: 'the contrast heel and toe' },
  bandana: { at: [400, 320], shows: 'the printed medallion and border' },
  tote: { at: [360, 400], shows: 'the box-stitched webbing handles' },
  backpack: { at: [400, 300], shows: 'the roll top, buckle and front pocket' },
  pouch: { at: [540, 440], shows: 'the brass zip and leather pull' },
  mug: { at: [420, 400], shows: 'the speckled enamel and rolled rim' },
  bottle: { at: [400, 260], shows: 'the loop cap and steel neck' },
  notebook: { at: [400, 300], shows: 'the cover label and elastic closure' },
  candle: { at: [400, 480], shows: 'the flame and label' },
  blanket: { at: [560, 440], shows: 'the check weave and fringed edge' },
  towels: { at: [460, 420], shows: 'the woven stripe and waffle texture' },
}

// Things that stand on a surface get a floor shadow under them (y of their base, half width);
// flat lays only the soft drop shadow.
const FLOOR: Partial<Record<ImageKind, [number, number]>> = {
  mug: [636, 210],
  bottle: [678, 130],
  candle: [654, 170],
  backpack: [666, 220],
  tote: [662, 250],
  pouch: [648, 290],
  'bucket-hat': [560, 290],
  beanie: [584, 200],
  cap: [582, 250],
}

// Low-lying things are lifted and enlarged to fill the frame like the rest.
const PLACE: Partial<Record<ImageKind, string>> = {
  pouch: 'translate(400 410) scale(1.12) translate(-400 -515)',
  towels: 'translate(400 410) scale(1.12) translate(-400 -475)',
  blanket: 'translate(400 410) scale(1.08) translate(-400 -463)',
  'bucket-hat': 'translate(400 410) scale(1.1) translate(-400 -420)',
  cap: 'translate(400 410) scale(1.08) translate(-400 -420)',
  socks: 'translate(0 -10)',
}

function item(spec: ProductImageSpec, p: Palette): string {
  const g = GARMENTS[spec.kind]
  if (g) return garment(g, p)
  switch (spec.kind) {
    case 'cap':
      return cap(p)
    case 'beanie':
      return beanie(p)
    case 'bucket-hat':
      return bucketHat(p)
    case 'socks':
      return socks(p)
    case 'bandana':
      return bandana(p)
    case 'tote':
      return tote(p)
    case 'backpack':
      return backpack(p)
    case 'pouch':
      return pouch(p)
    case 'mug':
      return mug(p, spec.seed)
    case 'bottle':
      return bottle(p)
    case 'notebook':
      return notebook(p)
    case 'candle':
      return candle(p, spec.labelLines ?? [])
    case 'blanket':
      return blanket(p)
    case 'towels':
      return towels(p)
    default:
      throw new Error(`demo images: no drawing for ${spec.kind}`)
  }
}

function defs(p: Palette): string {
  const line = p.line
  return `<defs>
<linearGradient id="bg" x1="0" y1="0" x2="0.35" y2="1"><stop offset="0" stop-color="${p.bgTop}"/><stop offset="1" stop-color="${p.bgBottom}"/></linearGradient>
<radialGradient id="spot" cx="0.5" cy="0.42" r="0.55"><stop offset="0" stop-color="#ffffff" stop-opacity=".55"/><stop offset="1" stop-color="#ffffff" stop-opacity="0"/></radialGradient>
<radialGradient id="floor" cx="0.5" cy="0.5" r="0.5"><stop offset="0" stop-color="#000000" stop-opacity=".28"/><stop offset="1" stop-color="#000000" stop-opacity="0"/></radialGradient>
<linearGradient id="sheen" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="#ffffff" stop-opacity=".2"/><stop offset=".5" stop-color="#ffffff" stop-opacity="0"/><stop offset="1" stop-color="#000000" stop-opacity=".16"/></linearGradient>
<linearGradient id="cyl" x1="0" y1="0" x2="1" y2="0"><stop offset="0" stop-color="#000000" stop-opacity=".16"/><stop offset=".28" stop-color="#ffffff" stop-opacity=".22"/><stop offset=".55" stop-color="#ffffff" stop-opacity="0"/><stop offset="1" stop-color="#000000" stop-opacity=".26"/></linearGradient>
<radialGradient id="glow" cx="0.5" cy="0.5" r="0.5"><stop offset="0" stop-color="#ffd27a" stop-opacity=".55"/><stop offset="1" stop-color="#ffd27a" stop-opacity="0"/></radialGradient>
<linearGradient id="flame" x1="0" y1="1" x2="0" y2="0"><stop offset="0" stop-color="#ff9a3c"/><stop offset="1" stop-color="#ffd56b"/></linearGradient>
<pattern id="waffle" width="16" height="16" patternUnits="userSpaceOnUse"><path d="M 0 0.5 H 16 M 0.5 0 V 16" stroke="${line}" stroke-width="1.5" opacity=".35" fill="none"/></pattern>
<pattern id="knit" width="12" height="10" patternUnits="userSpaceOnUse"><path d="M 0 1 L 6 8 L 12 1" stroke="${line}" stroke-width="1.4" opacity=".28" fill="none"/></pattern>
<pattern id="fleece" width="14" height="14" patternUnits="userSpaceOnUse"><circle cx="3" cy="4" r="1.4" fill="#ffffff" opacity=".16"/><circle cx="10" cy="10" r="1.6" fill="#000000" opacity=".08"/></pattern>
<pattern id="channels" width="800" height="48" y="250" patternUnits="userSpaceOnUse"><rect width="800" height="48" fill="url(#channel)"/></pattern>
<linearGradient id="channel" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#000000" stop-opacity=".1"/><stop offset=".35" stop-color="#ffffff" stop-opacity=".12"/><stop offset="1" stop-color="#000000" stop-opacity=".12"/></linearGradient>
<pattern id="baffles" width="800" height="58" y="262" patternUnits="userSpaceOnUse"><rect width="800" height="58" fill="url(#channel)"/></pattern>
<filter id="shadow" x="-20%" y="-20%" width="140%" height="140%"><feDropShadow dx="0" dy="14" stdDeviation="14" flood-color="${mix(p.bgBottom, '#000000', 0.6)}" flood-opacity=".28"/></filter>
</defs>`
}

/** One product picture as a standalone SVG document. */
export function renderProductImage(spec: ProductImageSpec): string {
  const p = palette(spec.swatch)
  const [fx, fy] = DETAIL[spec.kind].at
  const isDetail = spec.view === 'detail'
  // The detail view is the same drawing, nearer: 1.75× around the kind's focus point.
  const place = isDetail ? `translate(400 400) scale(1.75) translate(${-fx} ${-fy})` : (PLACE[spec.kind] ?? 'translate(0 -8)')
  const base = FLOOR[spec.kind]
  const floor = base ? `<ellipse cx="400" cy="${base[0]}" rx="${base[1] + 40}" ry="24" fill="url(#floor)"/>` : ''
  // The caption sits on the backdrop; a close-up fills the frame, so it goes without.
  const caption = isDetail
    ? ''
    : `<g font-family="ui-sans-serif, system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif" font-size="17" letter-spacing="3" fill="${p.ink}" opacity=".62"><text x="44" y="758">${esc(spec.title.toUpperCase())}</text><text x="756" y="758" text-anchor="end">${esc(spec.swatch.name.toUpperCase())}</text></g>`
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${IMAGE_SIZE} ${IMAGE_SIZE}" width="${IMAGE_SIZE}" height="${IMAGE_SIZE}" role="img" aria-label="${esc(`${spec.title}, ${spec.swatch.name}`)}">
${defs(p)}
<rect width="800" height="800" fill="url(#bg)"/>
<rect width="800" height="800" fill="url(#spot)"/>
<g transform="${place}">${floor}<g filter="url(#shadow)">${item(spec, p)}</g></g>
${caption}
</svg>
`
}

/** Alt text for a picture: what it is, in which colour, and for a close-up what it shows. */
export function describeImage(spec: Pick<ProductImageSpec, 'kind' | 'swatch' | 'title' | 'view'>): string {
  return spec.view === 'detail' ? `Close-up of the ${spec.title} in ${spec.swatch.name}, showing ${DETAIL[spec.kind].shows}` : `${spec.title} in ${spec.swatch.name}${FLOOR[spec.kind] ? '' : ', laid flat'}`
}

/**
 * Writes an image under uploadsDir, atomically (temp file + rename) so a request never
 * reads half a file while another process seeds.
 */
export function writeUpload(uploadsDir: string, relPath: string, body: string | Buffer): void {
  const file = path.join(/*turbopackIgnore: true*/ uploadsDir, relPath)
  fs.mkdirSync(path.dirname(file), { recursive: true })
  const temp = `${file}.${process.pid}.tmp`
  fs.writeFileSync(temp, body)
  fs.renameSync(temp, file)
}
