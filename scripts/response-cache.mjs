// The response cache in front of Next (docs/decisions/002-catalog-caching.md): anonymous
// catalog pages are the same for every visitor, so the bytes Next sent for one are kept and
// sent again, without routing, rendering or reading Next's own cache, until the catalog or
// stock changes or a minute has passed. Plain JavaScript beside scripts/start.mjs, because it
// runs before Next is loaded; it knows nothing of the store but one function the app installs
// at boot on globalThis (lib/cache.ts installFrontCacheVersion).

// Only pages that render the same for every visitor, and only the document itself (a client
// navigation's RSC payload depends on the router state the browser sends).
const CATALOG_PATH = /^\/(?:|products|search|products\/[^/?]+|collections\/[^/?]+)$/
// The cart is per visitor, except for a visitor with no cookie at all: everyone new sees the
// same empty cart (the one a newsletter or a crawl brings). Any cookie sends it to Next.
const NEW_VISITOR_PATH = /^\/cart$/
// Query keys that make a page per-visitor (a flash message after a no-JavaScript post) or an
// RSC request in disguise.
const PRIVATE_QUERY_KEYS = ['notice', 'error', '_rsc']
// Request headers that change what Next answers for the same URL.
const VARYING_HEADERS = ['rsc', 'next-action', 'next-router-prefetch', 'next-router-state-tree', 'next-router-segment-prefetch', 'next-url', 'x-prerender-revalidate']
// Headers that belong to one connection or one send, rebuilt by Node for every answer.
const HOP_HEADERS = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding', 'content-length'])
// Rough cost of an entry's key, headers and bookkeeping, so that many tiny entries still count.
const ENTRY_OVERHEAD_BYTES = 2048

/**
 * @param {{ maxBytes: number, maxEntryBytes: number, ttlMs: number, version: () => (string | null | undefined) }} options
 * `version()` names the catalog's current state; a different answer empties the cache, and
 * null or undefined (the app is not booted, or is shutting down) turns it off.
 */
export function createResponseCache({ maxBytes, maxEntryBytes, ttlMs, version }) {
  /** @type {Map<string, { status: number, headers: Record<string, string | string[]>, body: Buffer, etag: string | undefined, storedAt: number, size: number }>} */
  const entries = new Map()
  let bytes = 0
  let currentVersion = null
  const stats = { hits: 0, misses: 0, stores: 0, evictions: 0 }

  function clear() {
    entries.clear()
    bytes = 0
  }

  function remove(key, entry) {
    entries.delete(key)
    bytes -= entry.size
  }

  /** The key for a request this cache may answer or keep, or null. */
  function keyOf(req) {
    if (req.method !== 'GET') return null
    const url = req.url ?? ''
    const q = url.indexOf('?')
    const pathname = q < 0 ? url : url.slice(0, q)
    if (!CATALOG_PATH.test(pathname) && !(NEW_VISITOR_PATH.test(pathname) && req.headers.cookie === undefined)) return null
    if (q >= 0) {
      const query = new URLSearchParams(url.slice(q + 1))
      for (const key of PRIVATE_QUERY_KEYS) if (query.has(key)) return null
    }
    const headers = req.headers
    for (const name of VARYING_HEADERS) if (headers[name] !== undefined) return null
    // Next compresses per Accept-Encoding; each distinct header value is its own entry.
    return `${headers['accept-encoding'] ?? ''}\n${url}`
  }

  /** The catalog's version, emptying the cache when it moved; null when caching is off. */
  function check() {
    const now = version()
    if (now === null || now === undefined) {
      if (entries.size > 0) clear()
      currentVersion = null
      return null
    }
    if (now !== currentVersion) {
      clear()
      currentVersion = now
    }
    return now
  }

  function send(req, res, entry) {
    stats.hits += 1
    const inm = req.headers['if-none-match']
    if (entry.etag !== undefined && inm !== undefined && inm.split(/\s*,\s*/).includes(entry.etag)) {
      res.writeHead(304, { etag: entry.etag, vary: entry.headers.vary ?? 'Accept-Encoding', 'x-till-cache': 'HIT' })
      res.end()
      return
    }
    res.writeHead(entry.status, entry.headers)
    res.end(entry.body)
  }

  /**
   * Answers the request from the cache and returns true, or returns false after arranging
   * to keep what Next sends for it (when it is a page every visitor may share).
   */
  function handle(req, res) {
    const key = keyOf(req)
    if (key === null) return false
    const at = check()
    if (at === null) return false
    const entry = entries.get(key)
    if (entry) {
      if (Date.now() - entry.storedAt < ttlMs) {
        // most recently used last: eviction takes from the front
        entries.delete(key)
        entries.set(key, entry)
        send(req, res, entry)
        return true
      }
      remove(key, entry)
    }
    stats.misses += 1
    record(req, res, key, at)
    return false
  }

  /** Copies what Next writes for this request, and keeps it if it may be shared. */
  function record(req, res, key, at) {
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
    res.once('finish', () => {
      if (isTooBig || status !== 200) return
      // A response that sets a cookie belongs to one visitor.
      if (headers['set-cookie'] !== undefined) return
      // Next's own cache said its copy is being regenerated (STALE) or was just made (MISS):
      // keep the next answer instead, so a test or a client reading x-nextjs-cache sees HIT.
      const nextCache = headers['x-nextjs-cache']
      if (nextCache !== undefined && nextCache !== 'HIT') return
      // Something changed while Next rendered: this copy may be from before it.
      if (check() !== at) return
      const kept = {}
      for (const [name, value] of Object.entries(headers)) if (!HOP_HEADERS.has(name)) kept[name] = value
      const body = Buffer.concat(chunks, size)
      kept['content-length'] = String(body.length)
      kept['x-till-cache'] = 'HIT'
      const entrySize = body.length + key.length + ENTRY_OVERHEAD_BYTES
      const old = entries.get(key)
      if (old) remove(key, old)
      entries.set(key, { status, headers: kept, body, etag: typeof kept.etag === 'string' ? kept.etag : undefined, storedAt: Date.now(), size: entrySize })
      bytes += entrySize
      stats.stores += 1
      for (const [oldKey, oldEntry] of entries) {
        if (bytes <= maxBytes) break
        remove(oldKey, oldEntry)
        stats.evictions += 1
      }
    })
  }

  return {
    handle,
    clear,
    stats: () => ({ ...stats, entries: entries.size, bytes }),
  }
}
