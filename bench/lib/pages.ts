import zlib from 'node:zlib'

// What a page sends: its HTML bytes, and the JavaScript a first visit loads with it.

export type Page = { type: string; body: Buffer }

export async function fetchPage(url: string): Promise<Page> {
  const res = await fetch(url, { redirect: 'manual' })
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status}`)
  return { type: res.headers.get('content-type') ?? 'text/html; charset=utf-8', body: Buffer.from(await res.arrayBuffer()) }
}

/**
 * Every script the HTML loads or preloads: <script src> and <link rel=preload|modulepreload
 * as=script>, less the noModule polyfills a current browser never fetches. (Chromium, loading
 * the page to network idle, fetches this same set.)
 */
function scriptUrls(html: string): string[] {
  const urls = new Set<string>()
  for (const m of html.matchAll(/<script\b[^>]*>/g)) {
    const src = /\bsrc="([^"]+)"/.exec(m[0])?.[1]
    if (src && !/\bnomodule\b/i.test(m[0])) urls.add(src)
  }
  for (const m of html.matchAll(/<link\b[^>]*>/g)) {
    const tag = m[0]
    const href = /\bhref="([^"]+)"/.exec(tag)?.[1]
    if (href && /\brel="(?:preload|modulepreload)"/.test(tag) && (/\bas="script"/.test(tag) || /modulepreload/.test(tag))) urls.add(href)
  }
  return [...urls].map((u) => u.replaceAll('&amp;', '&'))
}

/** Gzip bytes (zlib default level) of every script a first visit to `path` loads. */
export async function firstLoadJs(base: string, path: string): Promise<{ gzipBytes: number; scripts: number }> {
  const html = (await fetchPage(`${base}${path}`)).body.toString('utf8')
  let gzipBytes = 0
  const urls = scriptUrls(html)
  for (const src of urls) {
    const res = await fetch(new URL(src, base))
    if (!res.ok) throw new Error(`GET ${src}: ${res.status}`)
    gzipBytes += zlib.gzipSync(Buffer.from(await res.arrayBuffer())).length
  }
  return { gzipBytes, scripts: urls.length }
}
