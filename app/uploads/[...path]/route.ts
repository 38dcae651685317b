import { resizedUpload } from '@/lib/product-images'
import { loadUpload } from '@/lib/uploads'

// Serves uploaded product pictures (this server's copy in STORAGE_DIR/uploads, or the
// database's, lib/uploads.ts), and makes a smaller copy of an uploaded
// JPEG the first time one is asked for (lib/picture-sizes.ts). Upload paths are never rewritten in place,
// so a year of immutable caching is safe. An SVG opened directly gets a CSP that forbids
// scripts and sandboxes it: an uploaded SVG is a document, not just a picture.
export const runtime = 'nodejs'

const SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'; sandbox"

export async function GET(_request: Request, { params }: { params: Promise<{ path: string[] }> }) {
  const { path: segments } = await params
  const rel = segments.join('/')
  const upload = (await loadUpload(rel)) ?? (await resizedUpload(rel))
  if (!upload) {
    return new Response('Not found', { status: 404, headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' } })
  }
  const headers = new Headers({
    'Content-Type': upload.contentType,
    'Content-Length': String(upload.body.byteLength),
    'Cache-Control': 'public, max-age=31536000, immutable',
    'X-Content-Type-Options': 'nosniff',
  })
  if (upload.contentType === 'image/svg+xml') headers.set('Content-Security-Policy', SVG_POLICY)
  return new Response(new Uint8Array(upload.body), { status: 200, headers })
}
