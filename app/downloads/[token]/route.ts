import { getEnv } from '@/lib/env'
import * as downloads from '@/lib/downloads'

// A digital product's download link (lib/downloads.ts): each GET counts one download and
// streams the file. Never cached anywhere (the response cache in front only keeps catalog
// pages), never sniffed into something else by the browser, always saved as a file.
export const runtime = 'nodejs'
export const dynamic = 'force-dynamic'

const PRIVATE = { 'Cache-Control': 'private, no-store', 'X-Content-Type-Options': 'nosniff', 'X-Robots-Tag': 'noindex' }

function refusal(status: number, message: string): Response {
  const store = getEnv().storeName.replace(/[<>&"]/g, '')
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex"><title>Download unavailable · ${store}</title></head><body style="font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#1c1917"><h1 style="font-size:1.5rem">Download unavailable</h1><p data-testid="download-refused">${message}</p><p>The link on your order page says how many downloads are left and until when. If you need help, reply to your order confirmation.</p><p><a href="/">Back to ${store}</a></p></body></html>`
  return new Response(html, { status, headers: { ...PRIVATE, 'Content-Type': 'text/html; charset=utf-8' } })
}

export async function GET(_request: Request, { params }: { params: Promise<{ token: string }> }) {
  const { token } = await params
  const claim = await downloads.claim(token)
  if (!claim.ok) return refusal(claim.status, claim.message)
  return new Response(claim.body, {
    status: 200,
    headers: {
      ...PRIVATE,
      'Content-Type': claim.contentType,
      'Content-Length': String(claim.sizeBytes),
      'Content-Disposition': downloads.dispositionOf(claim.fileName),
    },
  })
}

// A HEAD would count a download without delivering it (Next answers HEAD from GET otherwise).
export function HEAD(): Response {
  return new Response(null, { status: 405, headers: { ...PRIVATE, Allow: 'GET' } })
}
