// The response cache in front of Next (docs/decisions/005-response-cache-and-lean-pages.md):
// anonymous catalog pages are the same for every visitor, so the bytes Next sent for one are
// kept and sent again, without routing, rendering or reading Next's own cache, until what the
// page shows changes or a minute has passed. Plain JavaScript beside scripts/start.mjs,
// because it runs before Next is loaded. The contract with the app (what it tells this cache,
// what this cache asks of it) is typed in lib/cache.ts; this file knows nothing of the store.
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib'

// Only pages that render the same for every visitor, and only the document itself (a client
// navigation's RSC payload depends on the router state the browser sends).
const CATALOG_PATH = /^\/(?:|products|search|products\/[^/?]+|collections\/[^/?]+)$/
const PRODUCT_PATH = /^\/products\/([^/?]+)$/
// The cart is per visitor, except for a visitor with no cookie at all: everyone new sees the
// same empty cart (the one a newsletter or a crawl brings). Any cookie sends it to Next.
const NEW_VISITOR_PATH = /^\/cart$/
// Query keys that make a page per-visitor (a flash message after a no-JavaScript post) or an
// RSC request in disguise.
const PRIVATE_QUERY_KEYS = ['notice', 'error', '_rsc']
// The request headers a request may carry and still be answered from, or stored into, this
// cache: what browsers, crawlers and a reverse proxy send with a plain page load. Anything
// else (Next's router and action headers, x-middleware-*, x-nextjs-*, x-invoke-*, prefetch
// purposes, Range, or a header nobody has looked at yet) goes to Next and is never kept: an
// allow-list fails closed where a list of known-bad names would fail open on the next one.
// Pages read no request header (decision 002), so none of these changes the page.
export const SHAREABLE_REQUEST_HEADERS = new Set([
  'host', 'connection', 'keep-alive', 'user-agent', 'accept', 'accept-encoding', 'accept-language',
  'cache-control', 'pragma', 'if-none-match', 'if-modified-since', 'referer', 'dnt', 'save-data',
  'upgrade-insecure-requests', 'priority', 'te', 'via', 'forwarded', 'cookie',
  'sec-fetch-site', 'sec-fetch-mode', 'sec-fetch-dest', 'sec-fetch-user',
  'sec-ch-ua', 'sec-ch-ua-mobile', 'sec-ch-ua-platform', 'sec-gpc',
  'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-port', 'x-real-ip', 'x-request-id',
  // the socket peer, written by the front server itself after dropping any copy a client sent
  // (scripts/start.mjs stampPeer); only the limiters read it, never a page
  'x-till-peer',
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

/**
 * @typedef {{ slug: string, isSoldOutChanged: boolean, hasSoldOutVariant: boolean }} ProductChange
 * @typedef {{ all?: boolean, products?: ProductChange[], storedAfter?: number }} Scope
 *   what changed: everything (an admin edit, a gap in the change log), or some products;
 *   `isSoldOutChanged` means the product's sold-out badge may have flipped (every listing may
 *   show it), `hasSoldOutVariant` that something it offered is gone (never served stale);
 *   `storedAfter` limits it to pages kept since then (lib/cache.ts Scope).
 * @typedef {{ status: number, headers: Record<string, string | string[]>, body: Buffer, etag: string | undefined,
 *   storedAt: number, staleSince: number | null, size: number, slug: string | null, isListing: boolean,
 *   links: Set<string> }} Entry
 */

/**
 * @param {{ maxBytes: number, maxEntryBytes: number, ttlMs: number, staleMs: number, waitMs?: number,
 *   poll: () => boolean, now?: () => number }} options
 * `poll()` is asked before every lookup: false means caching is off (the app is not booted,
 * or is shutting down); while answering it the app may call `invalidate` with what another
 * process changed. `staleMs` is how long a changed (not sold-out) page may still be sent
 * while one request renders its replacement.
 */
export function createResponseCache({ maxBytes, maxEntryBytes, ttlMs, staleMs, waitMs = 10_000, poll, now = Date.now }) {
  /** @type {Map<string, Entry>} */
  const entries = new Map()
  /** Requests waiting for a render of their key already under way (single flight). @type {Map<string, Array<(entry: Entry | undefined) => void>>} */
  const inflight = new Map()
  /** @type {{ seq: number, scope: Scope }[]} */
  const recent = []
  let seq = 0
  let bytes = 0
  let isOn = false
  const stats = { hits: 0, staleHits: 0, misses: 0, waits: 0, stores: 0, evictions: 0, drops: 0 }

  function clear() {
    entries.clear()
    bytes = 0
  }

  function remove(key, entry) {
    if (entries.get(key) !== entry) return
    entries.delete(key)
    bytes -= entry.size
  }

  /** The key for a request this cache may answer or keep, or null. */
  function keyOf(req) {
    if (req.method !== 'GET') return null
    const url = req.url ?? ''
    const q = url.indexOf('?')
    const pathname = q < 0 ? url : url.slice(0, q)
    const headers = req.headers
    if (!CATALOG_PATH.test(pathname) && !(NEW_VISITOR_PATH.test(pathname) && headers.cookie === undefined)) return null
    if (q >= 0) {
      const query = new URLSearchParams(url.slice(q + 1))
      for (const key of PRIVATE_QUERY_KEYS) if (query.has(key)) return null
    }
    for (const name in headers) if (!SHAREABLE_REQUEST_HEADERS.has(name)) return null
    // Next compresses per Accept-Encoding; each distinct header value is its own entry.
    return `${headers['accept-encoding'] ?? ''}\n${url}`
  }

  /** Whether a change described by `scope` can alter what `entry` shows. */
  function touches(scope, entry) {
    if (scope.all) return true
    for (const change of scope.products ?? []) {
      if (entry.slug === change.slug) return true
      if (change.isSoldOutChanged && (entry.isListing || entry.links.has(change.slug))) return true
    }
    return false
  }

  /** Whether a sold-out variant is in `scope` for this entry: such a page is never sent stale. */
  function isHard(scope, entry) {
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
  function invalidate(scope) {
    seq += 1
    recent.push({ seq, scope })
    if (recent.length > RECENT_INVALIDATIONS) recent.shift()
    const at = now()
    for (const [key, entry] of entries) {
      if (scope.storedAfter !== undefined && entry.storedAt < scope.storedAfter) continue
      if (!touches(scope, entry)) continue
      if (isHard(scope, entry) || staleMs <= 0) {
        remove(key, entry)
        stats.drops += 1
      } else if (entry.staleSince === null) entry.staleSince = at
    }
  }

  /** Whether an invalidation since `since` concerns a page with these facts. */
  function changedSince(since, entry) {
    if (since === seq) return false
    if (recent.length === 0 || recent[0].seq > since + 1) return true
    for (const { seq: at, scope } of recent) if (at > since && touches(scope, entry)) return true
    return false
  }

  function isOff() {
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

  function send(req, res, entry, state) {
    if (res.destroyed || res.writableEnded) return
    const inm = req.headers['if-none-match']
    const headers = state === 'HIT' ? entry.headers : { ...entry.headers, 'x-till-cache': state }
    if (entry.etag !== undefined && inm !== undefined && etagMatches(inm, entry.etag)) {
      res.writeHead(304, { etag: entry.etag, vary: entry.headers.vary ?? 'Accept-Encoding', 'x-till-cache': state })
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
  function handle(req, res, pass) {
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
        stats.hits += 1
        return send(req, res, entry, 'HIT')
      }
      if (at - staleSince < staleMs) {
        // One request renders the page again; everyone else meanwhile gets the last copy.
        if (inflight.has(key)) {
          stats.staleHits += 1
          return send(req, res, entry, 'STALE')
        }
        stats.misses += 1
        return lead(req, res, key, pass)
      }
      remove(key, entry)
    }
    const waiting = inflight.get(key)
    if (waiting) {
      stats.waits += 1
      let isDone = false
      const timer = setTimeout(() => finish(undefined), waitMs)
      timer.unref?.()
      function finish(stored) {
        if (isDone) return
        isDone = true
        clearTimeout(timer)
        if (stored) {
          stats.hits += 1
          send(req, res, stored, 'HIT')
        } else pass()
      }
      waiting.push(finish)
      return
    }
    stats.misses += 1
    return lead(req, res, key, pass)
  }

  /** This request renders `key` through Next; those that ask meanwhile wait for it. */
  function lead(req, res, key, pass) {
    inflight.set(key, [])
    record(req, res, key, (stored) => {
      const waiting = inflight.get(key) ?? []
      inflight.delete(key)
      for (const finish of waiting) finish(stored)
    })
    return pass()
  }

  /** Copies what Next writes for this request, and keeps it if it may be shared. */
  function record(req, res, key, done) {
    const since = seq
    let status = 0
    /** @type {Record<string, string | string[]>} */
    let headers = {}
    /** @type {Buffer[]} */
    let chunks = []
    let size = 0
    let isTooBig = false

    const writeHead = res.writeHead
    res.writeHead = function (code, ...rest) {
      status = code
      const given = rest.find((arg) => typeof arg === 'object' && arg !== null)
      headers = { ...res.getHeaders() }
      if (Array.isArray(given)) {
        for (let i = 0; i + 1 < given.length; i += 2) headers[String(given[i]).toLowerCase()] = given[i + 1]
      } else if (given) {
        for (const [name, value] of Object.entries(given)) if (value !== undefined) headers[name.toLowerCase()] = value
      }
      return writeHead.call(this, code, ...rest)
    }
    const take = (chunk, encoding) => {
      if (isTooBig || chunk === undefined || chunk === null || typeof chunk === 'function') return
      const buf = typeof chunk === 'string' ? Buffer.from(chunk, typeof encoding === 'string' ? encoding : 'utf8') : Buffer.from(chunk)
      size += buf.length
      if (size > maxEntryBytes) {
        isTooBig = true
        chunks = []
      } else chunks.push(buf)
    }
    const write = res.write
    res.write = function (chunk, encoding, cb) {
      take(chunk, encoding)
      return write.call(this, chunk, encoding, cb)
    }
    const end = res.end
    res.end = function (chunk, encoding, cb) {
      take(chunk, encoding)
      return end.call(this, chunk, encoding, cb)
    }
    let isSettled = false
    const settle = (stored) => {
      if (isSettled) return
      isSettled = true
      done(stored)
    }
    // A client that leaves before the answer is complete must not keep the others waiting.
    res.once('close', () => settle(undefined))
    res.once('finish', () => settle(keep()))

    function keep() {
      if (isTooBig || !isOn || !isPage(status, headers)) return undefined
      const body = Buffer.concat(chunks, size)
      const url = key.slice(key.indexOf('\n') + 1)
      const pathname = url.split('?', 1)[0]
      const slug = PRODUCT_PATH.exec(pathname)?.[1] ?? null
      const links = productLinks(body, headers['content-encoding'])
      if (links === null) return undefined
      /** @type {Entry} */
      const entry = { status, headers: {}, body, etag: undefined, storedAt: now(), staleSince: null, size: 0, slug, isListing: slug === null, links }
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
      stats.stores += 1
      for (const [oldKey, oldEntry] of entries) {
        if (bytes <= maxBytes) break
        remove(oldKey, oldEntry)
        stats.evictions += 1
      }
      return entry
    }
  }

  return {
    handle,
    invalidate,
    clear,
    stats: () => ({ ...stats, entries: entries.size, bytes }),
  }
}

/**
 * Whether an answer is provably the page: a 200 HTML document with no cookie and none of
 * Next's internal headers, and not a copy Next itself is about to replace.
 */
function isPage(status, headers) {
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
function headerBytes(headers) {
  let n = 0
  for (const [name, value] of Object.entries(headers)) n += 2 * (name.length + String(value).length)
  return n
}

/** The product slugs a page links to, or null when its body cannot be read. */
function productLinks(body, encoding) {
  let html
  try {
    if (encoding === undefined || encoding === 'identity') html = body
    else if (encoding === 'gzip') html = gunzipSync(body)
    else if (encoding === 'br') html = brotliDecompressSync(body)
    else if (encoding === 'deflate') html = inflateSync(body)
    else return null
  } catch {
    return null
  }
  const links = new Set()
  for (const match of html.toString('utf8').matchAll(PRODUCT_LINK)) links.add(match[1])
  return links
}

/**
 * If-None-Match with weak comparison (RFC 9110 §13.1.2): `W/"x"` matches `"x"` and the
 * reverse, and `*` matches any stored copy.
 */
export function etagMatches(header, etag) {
  const strip = (tag) => (tag.startsWith('W/') ? tag.slice(2) : tag)
  const ours = strip(etag)
  for (const candidate of header.split(',')) {
    const tag = candidate.trim()
    if (tag === '*' || strip(tag) === ours) return true
  }
  return false
}
