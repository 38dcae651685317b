// The response cache in front of Next (docs/decisions/005-response-cache-and-lean-pages.md):
// anonymous catalog pages are the same for every visitor, so the bytes Next sent for one are
// kept and sent again, without routing, rendering or reading Next's own cache, until what the
// page shows changes or a minute has passed. It runs in the front server (server/start.ts),
// before Next is loaded; what it tells the app and asks of it is in server/contract.ts, and
// which pages it may keep is declared by the pages (app/(shop)/shareable-pages.ts). It knows
// nothing else of the store.
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http'
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib'
import { FLASH_QUERY_KEYS, PEER_HEADER, type Scope, type ShareableKind, type ShareablePage } from './contract'

// Query keys that make a page per-visitor (a flash message after a no-JavaScript post) or an
// RSC request in disguise.
const PRIVATE_QUERY_KEYS = [...FLASH_QUERY_KEYS, '_rsc']
// The request headers a request may carry and still be answered from, or stored into, this
// cache: what browsers, crawlers and a reverse proxy send with a plain page load. Anything
// else (Next's router and action headers, x-middleware-*, x-nextjs-*, x-invoke-*, prefetch
// purposes, Range, or a header nobody has looked at yet) goes to Next and is never kept: an
// allow-list fails closed where a list of known-bad names would fail open on the next one.
// Pages read no request header and no cookie (decision 002), so none of these changes the page.
const SHAREABLE_REQUEST_HEADERS = new Set([
  'host', 'connection', 'keep-alive', 'user-agent', 'accept', 'accept-encoding', 'accept-language',
  'cache-control', 'pragma', 'if-none-match', 'if-modified-since', 'referer', 'dnt', 'save-data',
  'upgrade-insecure-requests', 'priority', 'te', 'via', 'forwarded', 'cookie',
  'sec-fetch-site', 'sec-fetch-mode', 'sec-fetch-dest', 'sec-fetch-user',
  'sec-ch-ua', 'sec-ch-ua-mobile', 'sec-ch-ua-platform', 'sec-gpc',
  'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-port', 'x-real-ip', 'x-request-id',
  // the socket peer, written by the front server itself after dropping any copy a client sent
  // (server/start.ts stampPeer); only the limiters read it, never a page
  PEER_HEADER,
])
// Response headers by which Next tells its own parts (the proxy, the router, actions) what to
// do: an answer carrying one is not the page, whatever its status (a prefetch answered `{}`).
// Three x-nextjs-* headers come with every page Next serves from its own cache (ISR: the
// collection and product pages) and say only that: its cache state, that it was prerendered,
// and how long a client router may reuse it; an answer with any other is not kept.
const INTERNAL_RESPONSE_HEADER = /^(?:x-middleware-|x-action-|x-invoke-|x-nextjs-(?!(?:cache|prerender|stale-time)$))/
// Headers that belong to one connection or one send, rebuilt by Node for every answer.
const HOP_HEADERS = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding', 'content-length'])
// What an entry costs beyond its body, key and header text: the Map slot, the entry and
// headers objects, the Buffer's own object and the link set. Measured by
// tests/unit/response-cache.test.ts with process.memoryUsage() around 20,000 tiny entries
// (about 900 bytes each on Node 22, three short headers); rounded up so the bound holds.
export const ENTRY_OVERHEAD_BYTES = 1024
// Product links in a page: which products it shows, so a change to one drops only the pages
// that show it.
const PRODUCT_LINK = /href="\/products\/([^"/?#]+)/g
// Invalidations remembered to check renders that were running while they happened.
const RECENT_INVALIDATIONS = 256

type Headers = Record<string, string | number | string[]>
type Entry = {
  status: number
  headers: Headers
  body: Buffer
  etag: string | undefined
  storedAt: number
  staleSince: number | null
  size: number
  slug: string | null
  isListing: boolean
  links: Set<string>
}
type Kind = { kind: ShareableKind; slug: string | null }

/** A matcher for the shareable pages' routes: `[param]` is one path segment, the rest literal. */
export function matchShareable(pages: readonly ShareablePage[]): (pathname: string) => Kind | null {
  const compiled = pages.map(({ route, kind }) => {
    const pattern = route
      .split('/')
      .map((segment) => (/^\[[^\]]+\]$/.test(segment) ? '([^/?]+)' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('/')
    return { kind, pattern: new RegExp(`^${route === '/' ? '/' : pattern}$`) }
  })
  return (pathname) => {
    for (const { kind, pattern } of compiled) {
      const match = pattern.exec(pathname)
      if (match) return { kind, slug: kind === 'product' ? (match[match.length - 1] ?? null) : null }
    }
    return null
  }
}

export type ResponseCacheOptions = {
  /** the pages it may keep (app/(shop)/shareable-pages.ts) */
  pages: readonly ShareablePage[]
  maxBytes: number
  maxEntryBytes: number
  ttlMs: number
  staleMs: number
  waitMs?: number
  poll: () => boolean
  now?: () => number
}

/**
 * `poll()` is asked before every lookup: false means caching is off (the app is not booted,
 * or is shutting down); while answering it the app may call `invalidate` with what another
 * process changed. `staleMs` is how long a changed (not sold-out) page may still be sent
 * while one request renders its replacement.
 */
export function createResponseCache({ pages, maxBytes, maxEntryBytes, ttlMs, staleMs, waitMs = 10_000, poll, now = Date.now }: ResponseCacheOptions) {
  const shareable = matchShareable(pages)
  const entries = new Map<string, Entry>()
  /** Requests waiting for a render of their key already under way (single flight). */
  const inflight = new Map<string, Array<(entry: Entry | undefined) => void>>()
  const recent: { seq: number; scope: Scope }[] = []
  let seq = 0
  let bytes = 0
  let isOn = false

  function clear() {
    entries.clear()
    bytes = 0
  }

  function remove(key: string, entry: Entry) {
    if (entries.get(key) !== entry) return
    entries.delete(key)
    bytes -= entry.size
  }

  /** The key for a request this cache may answer or keep, or null. */
  function keyOf(req: IncomingMessage): string | null {
    if (req.method !== 'GET') return null
    const url = req.url ?? ''
    const q = url.indexOf('?')
    const pathname = q < 0 ? url : url.slice(0, q)
    const headers = req.headers
    const page = shareable(pathname)
    if (page === null || (page.kind === 'new-visitor' && headers.cookie !== undefined)) return null
    if (q >= 0) {
      const query = new URLSearchParams(url.slice(q + 1))
      for (const key of PRIVATE_QUERY_KEYS) if (query.has(key)) return null
    }
    for (const name in headers) if (!SHAREABLE_REQUEST_HEADERS.has(name)) return null
    // Next compresses per Accept-Encoding; each distinct header value is its own entry.
    return `${headers['accept-encoding'] ?? ''}\n${url}`
  }

  /** Whether a change described by `scope` can alter what `entry` shows. */
  function touches(scope: Scope, entry: Entry): boolean {
    if (scope.all) return true
    for (const change of scope.products ?? []) {
      if (entry.slug === change.slug) return true
      if (change.isSoldOutChanged && (entry.isListing || entry.links.has(change.slug))) return true
    }
    return false
  }

  /** Whether a sold-out variant is in `scope` for this entry: such a page is never sent stale. */
  function isHard(scope: Scope, entry: Entry): boolean {
    if (scope.all) return false
    for (const change of scope.products ?? []) {
      if (change.hasSoldOutVariant && (entry.slug === change.slug || entry.isListing || entry.links.has(change.slug))) return true
    }
    return false
  }

  /**
   * What changed: pages that show it become stale (sent while one request renders them
   * again, for at most `staleMs`) or are dropped at once when something they offer sold out.
   * Renders that were running meanwhile are not kept if they show it (see record).
   */
  function invalidate(scope: Scope): void {
    seq += 1
    recent.push({ seq, scope })
    if (recent.length > RECENT_INVALIDATIONS) recent.shift()
    const at = now()
    for (const [key, entry] of entries) {
      if (scope.storedAfter !== undefined && entry.storedAt < scope.storedAfter) continue
      if (!touches(scope, entry)) continue
      if (isHard(scope, entry) || staleMs <= 0) {
        remove(key, entry)
      } else if (entry.staleSince === null) entry.staleSince = at
    }
  }

  /** Whether an invalidation since `since` concerns a page with these facts. */
  function changedSince(since: number, entry: Entry): boolean {
    if (since === seq) return false
    if (recent.length === 0 || recent[0]!.seq > since + 1) return true
    for (const { seq: at, scope } of recent) if (at > since && touches(scope, entry)) return true
    return false
  }

  function isOff(): boolean {
    let ok = false
    try {
      ok = poll() === true
    } catch {
      ok = false
    }
    if (!ok && entries.size > 0) clear()
    isOn = ok
    return !ok
  }

  function send(req: IncomingMessage, res: ServerResponse, entry: Entry, state: 'HIT' | 'STALE'): void {
    if (res.destroyed || res.writableEnded) return
    const inm = req.headers['if-none-match']
    const headers = state === 'HIT' ? entry.headers : { ...entry.headers, 'x-till-cache': state }
    if (entry.etag !== undefined && inm !== undefined && etagMatches(inm, entry.etag)) {
      res.writeHead(304, { etag: entry.etag, vary: String(entry.headers.vary ?? 'Accept-Encoding'), 'x-till-cache': state })
      res.end()
      return
    }
    res.writeHead(entry.status, headers)
    res.end(entry.body)
  }

  /**
   * Answers the request from the cache, or hands it to `pass` (Next) after arranging to keep
   * what Next sends for it when it is a page every visitor may share. Concurrent misses of
   * one key wait for the first one's render instead of rendering side by side.
   */
  function handle(req: IncomingMessage, res: ServerResponse, pass: () => void): void {
    const key = keyOf(req)
    if (key === null || isOff()) return pass()
    const entry = entries.get(key)
    const at = now()
    if (entry) {
      const staleSince = entry.staleSince ?? (at - entry.storedAt >= ttlMs ? entry.storedAt + ttlMs : null)
      if (staleSince === null) {
        // most recently used last: eviction takes from the front
        entries.delete(key)
        entries.set(key, entry)
        return send(req, res, entry, 'HIT')
      }
      if (at - staleSince < staleMs) {
        // One request renders the page again; everyone else meanwhile gets the last copy.
        if (inflight.has(key)) {
          return send(req, res, entry, 'STALE')
        }
        return lead(req, res, key, pass)
      }
      remove(key, entry)
    }
    const waiting = inflight.get(key)
    if (waiting) {
      let isDone = false
      const timer = setTimeout(() => finish(undefined), waitMs)
      timer.unref?.()
      function finish(stored: Entry | undefined) {
        if (isDone) return
        isDone = true
        clearTimeout(timer)
        if (stored) {
            send(req, res, stored, 'HIT')
        } else pass()
      }
      waiting.push(finish)
      return
    }
    return lead(req, res, key, pass)
  }

  /** This request renders `key` through Next; those that ask meanwhile wait for it. */
  function lead(req: IncomingMessage, res: ServerResponse, key: string, pass: () => void): void {
    inflight.set(key, [])
    record(res, key, (stored) => {
      const waiting = inflight.get(key) ?? []
      inflight.delete(key)
      for (const finish of waiting) finish(stored)
    })
    return pass()
  }

  /** Copies what Next writes for this request, and keeps it if it may be shared. */
  function record(res: ServerResponse, key: string, done: (stored: Entry | undefined) => void): void {
    const since = seq
    let status = 0
    let headers: Headers = {}
    let chunks: Buffer[] = []
    let size = 0
    let isTooBig = false

    const writeHead = res.writeHead
    res.writeHead = function (this: ServerResponse, code: number, ...rest: unknown[]) {
      status = code
      const given = rest.find((arg) => typeof arg === 'object' && arg !== null) as OutgoingHttpHeaders | unknown[] | undefined
      headers = { ...(res.getHeaders() as Headers) }
      if (Array.isArray(given)) {
        for (let i = 0; i + 1 < given.length; i += 2) headers[String(given[i]).toLowerCase()] = given[i + 1] as string
      } else if (given) {
        for (const [name, value] of Object.entries(given)) if (value !== undefined) headers[name.toLowerCase()] = value
      }
      return (writeHead as (...args: unknown[]) => ServerResponse).call(this, code, ...rest)
    }
    const take = (chunk: unknown, encoding: unknown) => {
      if (isTooBig || chunk === undefined || chunk === null || typeof chunk === 'function') return
      const buf = typeof chunk === 'string' ? Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8') : Buffer.from(chunk as Uint8Array)
      size += buf.length
      if (size > maxEntryBytes) {
        isTooBig = true
        chunks = []
      } else chunks.push(buf)
    }
    const write = res.write
    res.write = function (this: ServerResponse, chunk: unknown, encoding?: unknown, cb?: unknown) {
      take(chunk, encoding)
      return (write as (...args: unknown[]) => boolean).call(this, chunk, encoding, cb)
    }
    const end = res.end
    res.end = function (this: ServerResponse, chunk?: unknown, encoding?: unknown, cb?: unknown) {
      take(chunk, encoding)
      return (end as (...args: unknown[]) => ServerResponse).call(this, chunk, encoding, cb)
    }
    let isSettled = false
    const settle = (stored: Entry | undefined) => {
      if (isSettled) return
      isSettled = true
      done(stored)
    }
    // A client that leaves before the answer is complete must not keep the others waiting.
    res.once('close', () => settle(undefined))
    res.once('finish', () => settle(keep()))

    function keep(): Entry | undefined {
      if (isTooBig || !isOn || !isPage(status, headers)) return undefined
      const body = Buffer.concat(chunks, size)
      const url = key.slice(key.indexOf('\n') + 1)
      const pathname = url.split('?', 1)[0] ?? ''
      const slug = shareable(pathname)?.slug ?? null
      const links = productLinks(body, headers['content-encoding'])
      if (links === null) return undefined
      const entry: Entry = { status, headers: {}, body, etag: undefined, storedAt: now(), staleSince: null, size: 0, slug, isListing: slug === null, links }
      // Something this page shows changed while Next rendered it: this copy may be from before.
      if (changedSince(since, entry)) return undefined
      for (const [name, value] of Object.entries(headers)) if (!HOP_HEADERS.has(name)) entry.headers[name] = value
      entry.headers['content-length'] = String(body.length)
      entry.headers['x-till-cache'] = 'HIT'
      // Sent again from here, the copy is a hit of Next's page, whatever the first answer said.
      if (entry.headers['x-nextjs-cache'] !== undefined) entry.headers['x-nextjs-cache'] = 'HIT'
      entry.etag = typeof entry.headers.etag === 'string' ? entry.headers.etag : undefined
      entry.size = body.length + key.length * 2 + headerBytes(entry.headers) + ENTRY_OVERHEAD_BYTES
      const old = entries.get(key)
      if (old) remove(key, old)
      entries.set(key, entry)
      bytes += entry.size
      for (const [oldKey, oldEntry] of entries) {
        if (bytes <= maxBytes) break
        remove(oldKey, oldEntry)
      }
      return entry
    }
  }

  return {
    handle,
    invalidate,
    /** what it holds; tests/unit/response-cache.test.ts measures an entry's real cost with it */
    stats: () => ({ entries: entries.size, bytes }),
  }
}

/**
 * Whether an answer is provably the page: a 200 HTML document with no cookie and none of
 * Next's internal headers, and not a copy Next itself is about to replace.
 */
function isPage(status: number, headers: Headers): boolean {
  if (status !== 200) return false
  const type = headers['content-type']
  if (typeof type !== 'string' || !/^text\/html\b/i.test(type)) return false
  // A response that sets a cookie belongs to one visitor.
  if (headers['set-cookie'] !== undefined) return false
  for (const name of Object.keys(headers)) if (INTERNAL_RESPONSE_HEADER.test(name)) return false
  // Next's own cache said its copy is old and being regenerated in the background (STALE):
  // keep the next answer instead. A MISS is a page Next has just rendered: current.
  return headers['x-nextjs-cache'] !== 'STALE'
}

/** The text of stored headers, counted twice (names and values may be two-byte strings). */
function headerBytes(headers: Headers): number {
  let n = 0
  for (const [name, value] of Object.entries(headers)) n += 2 * (name.length + String(value).length)
  return n
}

/** The product slugs a page links to, or null when its body cannot be read. */
function productLinks(body: Buffer, encoding: unknown): Set<string> | null {
  let html: Buffer
  try {
    if (encoding === undefined || encoding === 'identity') html = body
    else if (encoding === 'gzip') html = gunzipSync(body)
    else if (encoding === 'br') html = brotliDecompressSync(body)
    else if (encoding === 'deflate') html = inflateSync(body)
    else return null
  } catch {
    return null
  }
  const links = new Set<string>()
  for (const match of html.toString('utf8').matchAll(PRODUCT_LINK)) links.add(match[1]!)
  return links
}

/**
 * If-None-Match with weak comparison (RFC 9110 §13.1.2): `W/"x"` matches `"x"` and the
 * reverse, and `*` matches any stored copy.
 */
export function etagMatches(header: string, etag: string): boolean {
  const strip = (tag: string) => (tag.startsWith('W/') ? tag.slice(2) : tag)
  const ours = strip(etag)
  for (const candidate of header.split(',')) {
    const tag = candidate.trim()
    if (tag === '*' || strip(tag) === ours) return true
  }
  return false
}
