// Requests that are plainly hostile or broken, refused with a clear 4xx before Next routes
// them. Without this, Next answers several of them with a 500: a path segment that is not
// valid percent-encoding (`/products/%ff`) fails while Next decodes route params; a server
// action post from a foreign Origin, with a body over the action size limit, or with a body
// that does not parse fails inside Next's action handler. proxy.ts calls these functions, and
// the front server (server/start.ts) the method and size checks, before Next reads a byte.

/** Request bodies above this are refused. Server actions allow the same (Next's default). */
export const MAX_BODY_BYTES = 1024 * 1024

/**
 * The admin's picture upload (app/admin/(console)/products/[id]/images/route.ts), a digital
 * product's file (products/[id]/download/route.ts) and the catalog import
 * (app/admin/(console)/import/upload/route.ts) stream and cap their own bodies (10 MB, 50 MB,
 * 8 MB) and answer more with a message on the form, so the front server lets them through up
 * to MAX_UPLOAD_BODY_BYTES. proxy.ts's matcher must leave the same three paths out (Next reads
 * that matcher from the source, so it cannot import this); tests/unit/request-guard.test.ts
 * checks the two agree.
 */
export const UPLOAD_PATH = /^\/admin\/(products\/\d{1,10}\/(images|download)|import\/upload)(\?|$)/
export const MAX_UPLOAD_BODY_BYTES = 64 * MAX_BODY_BYTES

export type Refusal = { status: 400 | 403 | 405 | 413; message: string }

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

/** Refuses a path whose segments do not decode (bad or overlong UTF-8 percent-encoding). */
export function checkPath(rawPathname: string): Refusal | null {
  if (!rawPathname.includes('%')) return null
  for (const segment of rawPathname.split('/')) {
    try {
      decodeURIComponent(segment)
    } catch {
      return { status: 400, message: 'Bad request: the address is not valid.' }
    }
  }
  return null
}

type HeaderSource = { get(name: string): string | null }

/**
 * The host Next compares a server action's Origin with: the first X-Forwarded-Host, else
 * Host. Refusing the same mismatch here turns Next's 500 into a 403.
 */
function requestHost(headers: HeaderSource): string | null {
  const forwarded = headers.get('x-forwarded-host')?.split(',')[0]?.trim()
  return forwarded || headers.get('host')
}

/**
 * Cross-site writes are refused: a state-changing request must come from a page of this
 * shop, that is from `appOrigin` (APP_URL) when given, and always from the host the request
 * was sent to. A request without Origin (curl, server-to-server calls such as the Stripe
 * SDK talking to the emulator) carries no shopper's cookies by accident, so it passes,
 * unless the browser says it is cross-site.
 */
export function checkOrigin(method: string, headers: HeaderSource, appOrigin: string | null = null): Refusal | null {
  if (SAFE_METHODS.has(method)) return null
  const forbidden: Refusal = { status: 403, message: 'Forbidden: this form must be sent from the shop’s own pages.' }
  const origin = headers.get('origin')
  if (origin === null) return headers.get('sec-fetch-site') === 'cross-site' ? forbidden : null
  if (origin === 'null') return forbidden
  let url: URL
  try {
    url = new URL(origin)
  } catch {
    return { status: 400, message: 'Bad request: the Origin header is not a URL.' }
  }
  if (appOrigin !== null && url.origin !== appOrigin) return forbidden
  return url.host !== '' && url.host === requestHost(headers) ? null : forbidden
}

/** Refuses a body announced as too large before a byte of it is read. */
export function checkDeclaredLength(headers: HeaderSource, max = MAX_BODY_BYTES): Refusal | null {
  const declared = headers.get('content-length')
  if (declared === null) return null
  if (!/^\d{1,16}$/.test(declared.trim())) return { status: 400, message: 'Bad request: Content-Length is not a number.' }
  return Number(declared) > max ? tooLarge(max) : null
}

export function tooLarge(max = MAX_BODY_BYTES): Refusal {
  return { status: 413, message: `Request body too large: the limit is ${Math.round(max / 1024)} KB.` }
}

export class BodyTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`Request body exceeds ${limit} bytes.`)
    this.name = 'BodyTooLarge'
  }
}

/**
 * Reads a body stream to the end, counting bytes; stops and throws BodyTooLarge as soon as
 * it passes `max`, so a chunked upload with no Content-Length is never held in memory.
 */
export async function readLimited(body: ReadableStream<Uint8Array> | null, max = MAX_BODY_BYTES): Promise<Uint8Array> {
  if (!body) return new Uint8Array(0)
  const reader = body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > max) {
      await reader.cancel().catch(() => undefined)
      throw new BodyTooLarge(max)
    }
    chunks.push(value)
  }
  const out = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    out.set(chunk, offset)
    offset += chunk.byteLength
  }
  return out
}

/** A POST Next will try to run as a server action: it has a Next-Action header or a multipart body. */
export function isPossibleAction(method: string, headers: HeaderSource): boolean {
  if (method !== 'POST') return false
  return headers.get('next-action') !== null || (headers.get('content-type') ?? '').toLowerCase().startsWith('multipart/form-data')
}

/**
 * Refuses a server action body Next would fail to decode (and answer with a 500): multipart
 * that does not parse, or a Next-Action call whose arguments are not a well-formed React
 * reply. The shop's actions take a form, so only the plain parts of the reply format are
 * allowed; references to parts must name parts that are there.
 */
export async function checkActionBody(headers: HeaderSource, body: Uint8Array): Promise<Refusal | null> {
  const contentType = headers.get('content-type') ?? ''
  const isFetchAction = headers.get('next-action') !== null
  const bad: Refusal = { status: 400, message: 'Bad request: the form data could not be read.' }
  if (contentType.toLowerCase().startsWith('multipart/form-data')) {
    let form: FormData
    try {
      form = await new Request('http://local/', { method: 'POST', headers: { 'content-type': contentType }, body: body as BodyInit }).formData()
    } catch {
      return bad
    }
    if (!isFetchAction) return null
    const parts = new Map<string, Part>()
    let position = 0
    for (const [key, value] of form.entries()) {
      if (typeof value === 'string' && !parts.has(key)) parts.set(key, { text: value, position })
      position++
    }
    const root = parts.get('0')
    return root !== undefined && isWellFormedReply(root, parts) ? null : bad
  }
  if (isFetchAction) {
    let text: string
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(body)
    } catch {
      return bad
    }
    return isWellFormedReply({ text, position: Number.POSITIVE_INFINITY }, new Map()) ? null : bad
  }
  return null
}

type Part = { text: string; position: number }

const MAX_REPLY_DEPTH = 64
const HEX = /^[0-9a-f]{1,8}$/

/**
 * Walks a React reply (the JSON text of a server action's arguments, plus its other parts)
 * without recursion, so hostile nesting cannot exhaust the stack. The arguments are an
 * array, and Next decodes a multipart reply as it streams in, so a part may refer only to
 * parts sent before it (the root, part "0", comes last).
 */
function isWellFormedReply(root: Part, parts: Map<string, Part>): boolean {
  const visited = new Set<string>()
  const pending: Part[] = [root]
  let isRoot = true
  while (pending.length > 0) {
    const from = pending.pop()!
    let value: unknown
    try {
      value = JSON.parse(from.text)
    } catch {
      return false
    }
    if (isRoot && !Array.isArray(value)) return false
    isRoot = false
    const stack: { value: unknown; depth: number }[] = [{ value, depth: 0 }]
    while (stack.length > 0) {
      const { value: current, depth } = stack.pop()!
      if (depth > MAX_REPLY_DEPTH) return false
      if (typeof current === 'string') {
        const name = referencedPart(current)
        if (name === false) return false
        if (name !== null) {
          const part = parts.get(name)
          if (part === undefined || part.position >= from.position) return false
          if (!visited.has(name)) {
            visited.add(name)
            pending.push(part)
          }
        }
      } else if (Array.isArray(current)) {
        for (const item of current) stack.push({ value: item, depth: depth + 1 })
      } else if (current !== null && typeof current === 'object') {
        for (const item of Object.values(current)) stack.push({ value: item, depth: depth + 1 })
      }
    }
  }
  return true
}

/** For a reply string: null when it needs no other part, the part's name, or false when not allowed. */
function referencedPart(value: string): string | null | false {
  if (value[0] !== '$') return null
  const tag = value[1]
  const rest = value.slice(2)
  switch (tag) {
    case '$': // an escaped string
    case 'u': // undefined
    case 'N': // NaN
    case 'I': // Infinity
    case '-': // -0, -Infinity
    case 'D': // a date
    case 'T': // a temporary reference
      return null
    case 'K': // a FormData, from the parts named _<id>_…
      return HEX.test(rest) ? null : false
    case 'n': // a BigInt
      return /^-?\d{1,300}$/.test(rest) ? null : false
    case '@': // a promise: its value is another part
      return partName(rest)
    default: // "$<hex id>": an outlined value
      return partName(value.slice(1))
  }
}

/** A reference to a whole part; a path into one ("$1:a:b") is not something a form sends. */
function partName(reference: string): string | false {
  return HEX.test(reference) ? String(parseInt(reference, 16)) : false
}

/** Every method the app answers; anything else (TRACE, CONNECT, made-up verbs) is refused. */
const KNOWN_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH', 'DELETE'])

export function checkMethod(method: string): Refusal | null {
  return KNOWN_METHODS.has(method) ? null : { status: 405, message: 'Method not allowed.' }
}

/** Strict-Transport-Security, only when the shop is served over HTTPS. */
export function hstsHeader(appUrl: string): string | null {
  return appUrl.startsWith('https://') ? 'max-age=63072000; includeSubDomains' : null
}
