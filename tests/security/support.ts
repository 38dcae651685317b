import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import type { StoreRows } from '../support/store-file'

// Hostile requests need control that fetch does not give (raw bytes in the request line,
// TRACE, a forged Host, a body that never ends), so they are written to a socket by hand.

const root = path.resolve(__dirname, '..', '..')

export type RawRequest = { method?: string; path: string; headers?: Record<string, string>; body?: string | Buffer; timeoutMs?: number }
export type RawResponse = { status: number; headers: Record<string, string>; text: string; request: string }

/** One HTTP/1.1 request on its own connection; status 0 when the server closed it without answering. */
export function send(baseUrl: string, req: RawRequest): Promise<RawResponse> {
  const { hostname, port } = new URL(baseUrl)
  const method = req.method ?? 'GET'
  const headers: Record<string, string> = { Host: `${hostname}:${port}`, Connection: 'close', ...req.headers }
  const body = req.body === undefined ? undefined : Buffer.isBuffer(req.body) ? req.body : Buffer.from(req.body)
  if (body && !Object.keys(headers).some((h) => /^(content-length|transfer-encoding)$/i.test(h))) headers['Content-Length'] = String(body.length)
  const head = `${method} ${req.path} HTTP/1.1\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\r\n')}\r\n\r\n`
  const label = `${method} ${req.path.length > 120 ? `${req.path.slice(0, 120)}…` : req.path}`
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname)
    const chunks: Buffer[] = []
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`no answer within ${req.timeoutMs ?? 30_000} ms: ${label}`))
    }, req.timeoutMs ?? 30_000)
    socket.on('connect', () => {
      socket.write(Buffer.from(head, 'latin1'))
      if (body) socket.write(body)
    })
    socket.on('data', (d) => chunks.push(d))
    socket.on('error', () => undefined)
    socket.on('close', () => {
      clearTimeout(timer)
      const raw = Buffer.concat(chunks).toString('utf8')
      const [headText = '', ...rest] = raw.split('\r\n\r\n')
      const [statusLine = '', ...headerLines] = headText.split('\r\n')
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0)
      const parsed: Record<string, string> = {}
      for (const line of headerLines) {
        const at = line.indexOf(':')
        if (at > 0) parsed[line.slice(0, at).trim().toLowerCase()] = line.slice(at + 1).trim()
      }
      resolve({ status, headers: parsed, text: rest.join('\r\n\r\n'), request: label })
    })
  })
}

/** What a response must never show a stranger: stack frames, file paths of the build or the machine. */
export function leaks(text: string, storageDir: string): string[] {
  const found: string[] = []
  const checks: [string, RegExp | string][] = [
    ['stack frame', /\n\s+at [^\n]{1,200}[(/ ][^\n]*:\d+:\d+\)?/],
    ['repository path', root],
    ['storage path', storageDir],
    ['server chunk path', '.next/server'],
    ['node_modules path', 'node_modules/'],
    ['sqlite error', /SQLITE_[A-Z]+|better-sqlite3/],
  ]
  for (const [name, pattern] of checks) {
    if (typeof pattern === 'string' ? text.includes(pattern) : pattern.test(text)) found.push(name)
  }
  return found
}

export type RowCounts = Record<string, number>

/** Rows that a refused request must never add or change. */
export async function rowCounts(db: StoreRows): Promise<RowCounts> {
  const counted = await db.get<RowCounts>(
    `SELECT (SELECT count(*) FROM orders) AS orders, (SELECT count(*) FROM stripe_events) AS stripe_events, (SELECT count(*) FROM carts) AS carts,
            (SELECT count(*) FROM cart_lines) AS cart_lines, (SELECT coalesce(sum(quantity), 0) FROM cart_lines) AS cart_units,
            (SELECT count(*) FROM stock_holds WHERE status = 'active') AS active_holds`,
  )
  return counted!
}

export type RouteInfo = { file: string; pattern: string; kind: 'page' | 'route' | 'metadata' }

/** Every URL pattern under app/: pages, route handlers and metadata routes (robots, sitemap, images). */
export function walkRoutes(dir = path.join(root, 'app')): RouteInfo[] {
  const found: RouteInfo[] = []
  const visit = (abs: string, segments: string[]) => {
    for (const entry of fs.readdirSync(abs, { withFileTypes: true })) {
      if (entry.isDirectory()) {
        if (entry.name.startsWith('_')) continue
        const isGroup = entry.name.startsWith('(') && entry.name.endsWith(')')
        visit(path.join(abs, entry.name), isGroup ? segments : [...segments, entry.name])
        continue
      }
      const base = entry.name.replace(/\.(tsx?|jsx?)$/, '')
      const url = `/${segments.join('/')}`
      const file = path.relative(root, path.join(abs, entry.name))
      if (base === 'page') found.push({ file, pattern: url, kind: 'page' })
      else if (base === 'route') found.push({ file, pattern: url, kind: 'route' })
      else if (base === 'robots') found.push({ file, pattern: '/robots.txt', kind: 'metadata' })
      else if (base === 'sitemap') found.push({ file, pattern: '/sitemap.xml', kind: 'metadata' })
      else if (base === 'opengraph-image' || base === 'icon') found.push({ file, pattern: `${url === '/' ? '' : url}/${base}`, kind: 'metadata' })
    }
  }
  visit(dir, [])
  return found
}

/** The route's URL with each dynamic segment filled: `[x]` and `[...x]` from `values`, else `fallback`. */
export function fill(pattern: string, values: Record<string, string>, fallback: string): string {
  return pattern.replace(/\[(?:\.\.\.)?([^\]]+)\]/g, (_, name: string) => values[name] ?? fallback)
}

export function dynamicNames(pattern: string): string[] {
  return [...pattern.matchAll(/\[(?:\.\.\.)?([^\]]+)\]/g)].map((m) => m[1]!)
}

/** The server-action ids a page's no-JavaScript forms carry. */
export function actionIdsIn(html: string): string[] {
  return [...new Set([...html.matchAll(/\$ACTION_ID_([0-9a-f]{2,})/g)].map((m) => m[1]!))]
}

export function multipart(fields: [string, string][], boundary = '----till-security-test'): { body: string; contentType: string } {
  const body = fields.map(([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`).join('') + `--${boundary}--\r\n`
  return { body, contentType: `multipart/form-data; boundary=${boundary}` }
}

/** Cookie header naming a cart. */
export const cartCookie = (cartId: string) => `till_cart=${cartId}`

export function rssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024
}
