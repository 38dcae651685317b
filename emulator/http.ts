import crypto from 'node:crypto'
import { findRoute } from './api'
import { checkoutDetails, checkoutPage, checkoutQuote, recoverPage } from './checkout-page'
import type { Emulator, ForeignSessionInput } from './emulator'
import { ApiError, invalid, unrecognizedUrl } from './errors'
import { newId } from './ids'
import { canonical, parseParams, Reader } from './params'

// Request dispatch: /v1/* (Stripe API, Bearer auth, idempotency keys), /emulator/checkout/*
// (the hosted payment page, no auth: the session id is the capability, as on Stripe) and
// /emulator/test/* (test controls, Bearer auth). Anything else is a Stripe-style 404.

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body, null, 2), {
    status,
    headers: { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', ...headers },
  })
}

function mask(key: string): string {
  if (key.length <= 12) return '*'.repeat(key.length)
  return `${key.slice(0, 8)}${'*'.repeat(Math.max(4, key.length - 12))}${key.slice(-4)}`
}

function sameText(a: string, b: string): boolean {
  const ha = crypto.createHash('sha256').update(a).digest()
  const hb = crypto.createHash('sha256').update(b).digest()
  return crypto.timingSafeEqual(ha, hb)
}

function authenticate(request: Request, secretKey: string): void {
  const header = request.headers.get('authorization')?.trim()
  if (!header) {
    throw new ApiError(
      401,
      'invalid_request_error',
      "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.",
    )
  }
  let provided = ''
  const bearer = /^Bearer\s+(.+)$/i.exec(header)
  const basic = /^Basic\s+(.+)$/i.exec(header)
  if (bearer) provided = bearer[1]!.trim()
  else if (basic) provided = Buffer.from(basic[1]!, 'base64').toString('utf8').split(':')[0] ?? ''
  if (!provided || !sameText(provided, secretKey)) {
    throw new ApiError(401, 'invalid_request_error', `Invalid API Key provided: ${mask(provided || header)}`, { code: 'api_key_invalid' })
  }
}

export async function handleRequest(emulator: Emulator, request: Request): Promise<Response> {
  const requestId = newId('req')
  const headers = { 'Request-Id': requestId, 'Stripe-Version': request.headers.get('stripe-version') ?? emulator.apiVersion }
  let path = '/'
  try {
    const url = new URL(request.url)
    path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname
    if (path.startsWith('/v1/')) return await api(emulator, request, url, path, requestId, headers)
    const page = /^\/emulator\/checkout\/([A-Za-z0-9_]+)$/.exec(path)
    if (page) return await checkoutPage(emulator, request, page[1]!)
    const quote = /^\/emulator\/checkout\/([A-Za-z0-9_]+)\/quote$/.exec(path)
    if (quote) return checkoutQuote(emulator, request, quote[1]!)
    const details = /^\/emulator\/checkout\/([A-Za-z0-9_]+)\/details$/.exec(path)
    if (details) return await checkoutDetails(emulator, request, details[1]!)
    const recover = /^\/emulator\/recover\/([A-Za-z0-9_]+)$/.exec(path)
    if (recover) return recoverPage(emulator, recover[1]!)
    if (path.startsWith('/emulator/test/')) return await controls(emulator, request, url, path.slice('/emulator/test/'.length), headers)
    throw unrecognizedUrl(request.method, path)
  } catch (err) {
    if (err instanceof ApiError) return json(err.status, err.toJSON(), headers)
    emulator.log.error('emulator: request failed', { path, method: request.method, err })
    return json(500, new ApiError(500, 'api_error', 'An unexpected error occurred in the payments emulator.').toJSON(), headers)
  }
}

async function api(emulator: Emulator, request: Request, url: URL, path: string, requestId: string, headers: Record<string, string>): Promise<Response> {
  authenticate(request, emulator.secretKey)
  const method = request.method.toUpperCase()
  const route = findRoute(method, path)
  if (!route) throw unrecognizedUrl(method, path)
  let params = parseParams(url.search.slice(1))
  if (method === 'POST') params = { ...params, ...parseParams(await request.text()) }
  const key = method === 'POST' ? request.headers.get('idempotency-key') : null
  if (key !== null && (key.length === 0 || key.length > 255)) throw invalid('Idempotency keys must be between 1 and 255 characters long.', 'Idempotency-Key')
  const fingerprint = canonical(params)
  // The key check, the effect and the stored response commit in one transaction: a retry
  // either finds the whole result or nothing (https://docs.stripe.com/api/idempotent_requests).
  const result = emulator.store.write(() => {
    if (key) {
      const prior = emulator.store.getIdempotent(key)
      if (prior) {
        if (prior.method !== method || prior.path !== path || prior.params !== fingerprint) {
          throw new ApiError(
            400,
            'idempotency_error',
            `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
          )
        }
        return { status: prior.status, text: prior.body, isReplay: true }
      }
    }
    const out = route.handler(emulator, new Reader(params), route.match, { id: requestId, idempotencyKey: key })
    const text = JSON.stringify(out.body, null, 2)
    if (key) emulator.store.putIdempotent(key, { method, path, params: fingerprint, status: out.status, body: text }, Date.now())
    return { status: out.status, text, isReplay: false }
  })
  emulator.kick()
  return new Response(result.text, {
    status: result.status,
    headers: {
      'Content-Type': 'application/json; charset=utf-8',
      'Cache-Control': 'no-store',
      ...headers,
      ...(key ? { 'Idempotency-Key': key } : {}),
      ...(result.isReplay ? { 'Idempotent-Replayed': 'true' } : {}),
    },
  })
}

// ---- test controls

type Json = Record<string, unknown>

function field<T extends 'string' | 'number' | 'boolean' | 'object'>(body: Json, key: string, type: T, required = false) {
  const v = body[key]
  if (v === undefined || v === null) {
    if (required) throw invalid(`Missing required param: ${key}.`, key, 'parameter_missing')
    return undefined
  }
  const actual = Array.isArray(v) ? 'array' : typeof v
  if (actual !== type && !(type === 'object' && actual === 'array')) throw invalid(`Invalid ${key}: expected ${type}`, key)
  if (type === 'number' && !Number.isSafeInteger(v)) throw invalid(`Invalid integer: ${key}`, key)
  return v as T extends 'string' ? string : T extends 'number' ? number : T extends 'boolean' ? boolean : Json
}

function addressField(body: Json): Json | undefined {
  const address = field(body, 'address', 'object')
  if (!address) return undefined
  for (const [k, v] of Object.entries(address)) if (v !== null && typeof v !== 'string') throw invalid(`Invalid address[${k}]: expected string`, `address[${k}]`)
  return address
}

function outcomeField(body: Json): 'succeeded' | 'failed' | undefined {
  const outcome = field(body, 'asyncOutcome', 'string')
  if (outcome !== undefined && outcome !== 'succeeded' && outcome !== 'failed') throw invalid('Invalid asyncOutcome: must be "succeeded" or "failed"', 'asyncOutcome')
  return outcome
}

function foreignInput(body: Json): ForeignSessionInput {
  const items = body.line_items
  if (!Array.isArray(items) || items.length === 0) throw invalid('Missing required param: line_items.', 'line_items', 'parameter_missing')
  const lines = items.map((raw, i) => {
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw invalid(`Invalid line_items[${i}]: expected object`, `line_items[${i}]`)
    const item = raw as Json
    const metadata = item.metadata
    if (metadata !== undefined && (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata))) throw invalid(`Invalid line_items[${i}][metadata]`, `line_items[${i}][metadata]`)
    const variant = item.variant_id
    if (variant !== undefined && typeof variant !== 'string' && typeof variant !== 'number') throw invalid(`Invalid line_items[${i}][variant_id]`, `line_items[${i}][variant_id]`)
    return {
      name: String(item.name ?? ''),
      unit_amount: typeof item.unit_amount === 'number' ? item.unit_amount : NaN,
      quantity: item.quantity === undefined ? 1 : typeof item.quantity === 'number' ? item.quantity : NaN,
      description: typeof item.description === 'string' ? item.description : undefined,
      metadata: metadata as Record<string, string> | undefined,
      variant_id: variant as string | number | undefined,
    }
  })
  const shipping = field(body, 'shipping', 'object')
  return {
    line_items: lines,
    currency: field(body, 'currency', 'string'),
    email: field(body, 'email', 'string'),
    name: field(body, 'name', 'string'),
    address: addressField(body) as ForeignSessionInput['address'],
    shipping: shipping ? { display_name: field(shipping, 'display_name', 'string'), amount: field(shipping, 'amount', 'number', true)! } : null,
    metadata: field(body, 'metadata', 'object') as Record<string, string> | undefined,
    client_reference_id: field(body, 'client_reference_id', 'string'),
    payment_link: field(body, 'payment_link', 'string'),
    card: field(body, 'card', 'string'),
    asyncOutcome: outcomeField(body),
    coupon: field(body, 'coupon', 'string'),
    promotion_code: field(body, 'promotion_code', 'string'),
    automatic_tax: field(body, 'automatic_tax', 'boolean'),
  }
}

async function readJson(request: Request, url: URL): Promise<Json> {
  const query = Object.fromEntries(url.searchParams)
  if (request.method === 'GET') return query
  const text = await request.text()
  if (!text.trim()) return query
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw invalid('Invalid JSON body.')
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw invalid('The body must be a JSON object.')
  return { ...query, ...(parsed as Json) }
}

async function controls(emulator: Emulator, request: Request, url: URL, name: string, headers: Record<string, string>): Promise<Response> {
  authenticate(request, emulator.secretKey)
  const method = request.method.toUpperCase()
  if (method !== 'POST' && !(method === 'GET' && (name === 'deliveries' || name === 'webhooks'))) throw unrecognizedUrl(method, `/emulator/test/${name}`)
  const body = await readJson(request, url)
  const control = emulator.control
  switch (name) {
    case 'pay':
      return json(
        200,
        control.pay({
          session: field(body, 'session', 'string', true)!,
          card: field(body, 'card', 'string'),
          email: field(body, 'email', 'string'),
          name: field(body, 'name', 'string'),
          address: addressField(body),
          asyncOutcome: outcomeField(body),
          shipping_rate_index: field(body, 'shipping_rate_index', 'number'),
          promotion_code: field(body, 'promotion_code', 'string'),
        }),
        headers,
      )
    case 'dispute':
      return json(
        200,
        control.dispute({
          charge: field(body, 'charge', 'string'),
          payment_intent: field(body, 'payment_intent', 'string'),
          amount: field(body, 'amount', 'number'),
          reason: field(body, 'reason', 'string'),
        }),
        headers,
      )
    case 'close-dispute': {
      const outcome = field(body, 'outcome', 'string')
      if (outcome !== 'won' && outcome !== 'lost') throw invalid('Invalid outcome: must be "won" or "lost"', 'outcome')
      return json(200, control.closeDispute({ dispute: field(body, 'dispute', 'string', true)!, outcome }), headers)
    }
    case 'foreign-session':
      return json(200, control.foreignSession(foreignInput(body)), headers)
    case 'webhooks': {
      const webhooks = field(body, 'webhooks', 'string')
      if (webhooks !== undefined && webhooks !== 'on' && webhooks !== 'off') throw invalid('Invalid webhooks: must be "on" or "off"', 'webhooks')
      const hasUrl = Object.prototype.hasOwnProperty.call(body, 'url')
      return json(200, control.setWebhooks({ webhooks, ...(hasUrl ? { url: body.url === null ? null : field(body, 'url', 'string')! } : {}) }), headers)
    }
    case 'deliveries':
      return json(200, { object: 'list', data: control.deliveries({ event: field(body, 'event', 'string'), status: field(body, 'status', 'string') }) }, headers)
    case 'flush-webhooks':
      return json(200, { attempted: await control.flushWebhooks({ force: field(body, 'force', 'boolean') }) }, headers)
    case 'advance-clock': {
      const seconds = body.seconds
      if (typeof seconds !== 'number') throw invalid('Missing required param: seconds.', 'seconds', 'parameter_missing')
      return json(200, control.advanceClock({ seconds }), headers)
    }
    case 'sweep':
      return json(200, control.sweep(), headers)
    default:
      throw unrecognizedUrl(method, `/emulator/test/${name}`)
  }
}
