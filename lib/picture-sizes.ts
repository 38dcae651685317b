// The smaller copies of an uploaded JPEG, shared by the upload (which makes them), the
// uploads route (which makes one on first request for a picture uploaded before copies
// existed) and the picture component (which lists them in `srcset`). Imports nothing, so
// client components may use it.

/** The longest side an upload is stored with (larger pictures are scaled down at upload). */
export const MAX_SIDE = 2000

/** Widths of the copies, in pixels: a phone's card, a desktop card or a phone's page, a desktop page. */
export const RESIZED_WIDTHS = [320, 640, 1024] as const
export type ResizedWidth = (typeof RESIZED_WIDTHS)[number]

// An upload's stored name is the content's hash (lib/product-images.ts); a copy adds its width.
const ORIGINAL = /^(products\/[0-9a-f]{32})\.jpg$/
const COPY = /^(products\/[0-9a-f]{32})-(\d{3,4})w\.jpg$/

/** Whether copies are made for this upload's path (an uploaded JPEG; not PNG, SVG, demo files). */
export function isResizable(path: string): boolean {
  return ORIGINAL.test(path)
}

/** The path of the copy `width` pixels wide. */
export function resizedPath(path: string, width: ResizedWidth): string {
  return path.replace(ORIGINAL, `$1-${width}w.jpg`)
}

/** For a copy's path: the original's path and the width; null for anything else. */
export function parseResizedPath(path: string): { original: string; width: ResizedWidth } | null {
  const m = COPY.exec(path)
  if (!m) return null
  const width = Number(m[2])
  return (RESIZED_WIDTHS as readonly number[]).includes(width) ? { original: `${m[1]}.jpg`, width: width as ResizedWidth } : null
}
