import { invalid, missing, unknownParam } from './errors'

// Stripe's request encoding: application/x-www-form-urlencoded with bracket notation, e.g.
// `line_items[0][price_data][product_data][metadata][variant_id]=12` or `expand[]=x`.
// The SDK sends arrays with explicit indices; `[]` is accepted too. Values stay strings;
// the Reader below turns them into typed values and names the offending param on failure.

type Param = string | Param[] | { [key: string]: Param }
export type Params = { [key: string]: Param }

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/

export function isEmail(value: string): boolean {
  return EMAIL.test(value) && value.length <= 800
}

type Node = { kind: 'node'; entries: Map<string, Node | string>; pushes: number }

const FORBIDDEN = new Set(['__proto__', 'prototype', 'constructor'])

function splitKey(raw: string): string[] {
  const match = /^([^[\]]+)((?:\[[^[\]]*\])*)$/.exec(raw)
  if (!match) throw invalid(`Invalid parameter name: ${raw}`, raw)
  const segments = [match[1]!]
  for (const m of match[2]!.matchAll(/\[([^[\]]*)\]/g)) segments.push(m[1]!)
  if (segments.some((s) => FORBIDDEN.has(s))) throw invalid(`Invalid parameter name: ${raw}`, raw)
  return segments
}

function newNode(): Node {
  return { kind: 'node', entries: new Map(), pushes: 0 }
}

function assign(root: Node, segments: string[], value: string, raw: string) {
  let node = root
  for (let i = 0; i < segments.length; i++) {
    let key = segments[i]!
    // `[]` appends; a push key sorts after explicit indices and keeps insertion order.
    if (key === '' && i > 0) key = `\u0000${String(node.pushes++).padStart(8, '0')}`
    else if (key === '') throw invalid(`Invalid parameter name: ${raw}`, raw)
    const isLast = i === segments.length - 1
    const existing = node.entries.get(key)
    if (isLast) {
      if (existing !== undefined && typeof existing !== 'string') throw invalid(`Invalid parameter: ${raw} mixes a value and nested fields`, raw)
      node.entries.set(key, value)
      return
    }
    if (typeof existing === 'string') throw invalid(`Invalid parameter: ${raw} mixes a value and nested fields`, raw)
    const child = existing ?? newNode()
    if (!existing) node.entries.set(key, child)
    node = child
  }
}

function isIndexKey(key: string): boolean {
  return /^\d{1,6}$/.test(key) || key.startsWith('\u0000')
}

function finish(node: Node, parentKey: string | null): Param {
  const keys = [...node.entries.keys()]
  // metadata may legitimately use keys like "0"; everything else with index keys is an array.
  if (parentKey !== 'metadata' && keys.length > 0 && keys.every(isIndexKey)) {
    const sorted = keys.slice().sort((a, b) => {
      const pa = a.startsWith('\u0000')
      const pb = b.startsWith('\u0000')
      if (pa !== pb) return pa ? 1 : -1
      return pa ? a.localeCompare(b) : Number(a) - Number(b)
    })
    return sorted.map((k) => {
      const v = node.entries.get(k)!
      return typeof v === 'string' ? v : finish(v, k)
    })
  }
  const out: Params = {}
  for (const [k, v] of node.entries) out[k] = typeof v === 'string' ? v : finish(v, k)
  return out
}

/** Parses a form body or query string into nested params. */
export function parseParams(text: string): Params {
  const root = newNode()
  for (const [rawKey, value] of new URLSearchParams(text)) {
    if (!rawKey) continue
    assign(root, splitKey(rawKey), value, rawKey)
  }
  return finish(root, null) as Params
}

/** A stable text form for comparing two requests' params (idempotency). */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`
  }
  return JSON.stringify(value ?? null)
}

export type Range = { gt?: number; gte?: number; lt?: number; lte?: number }

/** Typed, validating access to one level of params; errors name the full param path. */
export class Reader {
  constructor(
    readonly value: Params,
    readonly prefix = '',
  ) {}

  static of(value: unknown, prefix = ''): Reader {
    return new Reader(value && typeof value === 'object' && !Array.isArray(value) ? (value as Params) : {}, prefix)
  }

  name(key: string): string {
    return this.prefix ? `${this.prefix}[${key}]` : key
  }

  has(key: string): boolean {
    const v = this.value[key]
    return v !== undefined && v !== ''
  }

  keys(): string[] {
    return Object.keys(this.value)
  }

  /** Stripe answers any parameter it does not know with a 400; so do we. */
  only(allowed: readonly string[]): this {
    for (const key of Object.keys(this.value)) if (!allowed.includes(key)) throw unknownParam(this.name(key))
    return this
  }

  string(key: string, opts: { required?: boolean; max?: number; oneOf?: readonly string[] } = {}): string | undefined {
    const v = this.value[key]
    if (v === undefined || v === '') {
      if (opts.required) throw missing(this.name(key))
      return undefined
    }
    if (typeof v !== 'string') throw invalid(`Invalid string: ${this.name(key)} must be a string, not ${Array.isArray(v) ? 'an array' : 'an object'}`, this.name(key))
    if (opts.max !== undefined && v.length > opts.max) throw invalid(`Invalid ${this.name(key)}: must be at most ${opts.max} characters`, this.name(key))
    if (opts.oneOf && !opts.oneOf.includes(v)) throw invalid(`Invalid ${this.name(key)}: must be one of ${opts.oneOf.join(', ')}`, this.name(key))
    return v
  }

  requiredString(key: string, opts: { max?: number; oneOf?: readonly string[] } = {}): string {
    return this.string(key, { ...opts, required: true })!
  }

  int(key: string, opts: { required?: boolean; min?: number; max?: number } = {}): number | undefined {
    const raw = this.string(key, { required: opts.required })
    if (raw === undefined) return undefined
    if (!/^-?\d{1,15}$/.test(raw.trim())) throw invalid(`Invalid integer: ${raw}`, this.name(key))
    const n = Number(raw.trim())
    if (opts.min !== undefined && n < opts.min) throw invalid(`Invalid ${this.name(key)}: must be greater than or equal to ${opts.min}`, this.name(key))
    if (opts.max !== undefined && n > opts.max) throw invalid(`Invalid ${this.name(key)}: must be less than or equal to ${opts.max}`, this.name(key))
    return n
  }

  requiredInt(key: string, opts: { min?: number; max?: number } = {}): number {
    return this.int(key, { ...opts, required: true })!
  }

  bool(key: string): boolean | undefined {
    const raw = this.string(key)
    if (raw === undefined) return undefined
    if (raw !== 'true' && raw !== 'false') throw invalid(`Invalid boolean: ${raw}`, this.name(key))
    return raw === 'true'
  }

  object(key: string, opts: { required?: boolean } = {}): Reader | undefined {
    const v = this.value[key]
    if (v === undefined || v === '') {
      if (opts.required) throw missing(this.name(key))
      return undefined
    }
    if (typeof v === 'string' || Array.isArray(v)) throw invalid(`Invalid object: ${this.name(key)} must be a hash`, this.name(key))
    return new Reader(v, this.name(key))
  }

  /** An array of hashes, each as a Reader named `key[i]`. */
  objects(key: string, opts: { required?: boolean; max?: number } = {}): Reader[] | undefined {
    const v = this.value[key]
    if (v === undefined || v === '') {
      if (opts.required) throw missing(this.name(key))
      return undefined
    }
    if (!Array.isArray(v)) throw invalid(`Invalid array: ${this.name(key)} must be an array`, this.name(key))
    if (opts.max !== undefined && v.length > opts.max) throw invalid(`Invalid ${this.name(key)}: at most ${opts.max} entries are allowed`, this.name(key))
    return v.map((item, i) => {
      const name = `${this.name(key)}[${i}]`
      if (!item || typeof item !== 'object' || Array.isArray(item)) throw invalid(`Invalid object: ${name} must be a hash`, name)
      return new Reader(item, name)
    })
  }

  strings(key: string, opts: { max?: number } = {}): string[] | undefined {
    const v = this.value[key]
    if (v === undefined || v === '') return undefined
    const list = typeof v === 'string' ? [v] : v
    if (!Array.isArray(list)) throw invalid(`Invalid array: ${this.name(key)} must be an array of strings`, this.name(key))
    if (opts.max !== undefined && list.length > opts.max) throw invalid(`Invalid ${this.name(key)}: at most ${opts.max} entries are allowed`, this.name(key))
    return list.map((item, i) => {
      if (typeof item !== 'string') throw invalid(`Invalid string: ${this.name(key)}[${i}]`, `${this.name(key)}[${i}]`)
      return item
    })
  }

  /** Stripe's metadata rules: ≤50 keys, keys ≤40 chars, values ≤500 chars; "" unsets. */
  metadata(key: string): Record<string, string> | undefined {
    const v = this.value[key]
    if (v === undefined || v === '') return undefined
    if (typeof v === 'string' || Array.isArray(v)) throw invalid(`Invalid object: ${this.name(key)} must be a hash`, this.name(key))
    const out: Record<string, string> = {}
    for (const [k, value] of Object.entries(v)) {
      const name = `${this.name(key)}[${k}]`
      if (typeof value !== 'string') throw invalid(`Invalid string: ${name}`, name)
      if (k.length > 40) throw invalid(`Metadata keys can have at most 40 characters (${k})`, name)
      if (value.length > 500) throw invalid(`Metadata values can have at most 500 characters (${name})`, name)
      if (value !== '') out[k] = value
    }
    if (Object.keys(out).length > 50) throw invalid('Metadata can have at most 50 keys', this.name(key))
    return out
  }

  /** `created=123` or `created[gte]=123&created[lt]=456`. */
  range(key: string): Range | undefined {
    const v = this.value[key]
    if (v === undefined || v === '') return undefined
    if (typeof v === 'string') {
      const n = this.int(key)!
      return { gte: n, lte: n }
    }
    const r = this.object(key)!.only(['gt', 'gte', 'lt', 'lte'])
    return { gt: r.int('gt'), gte: r.int('gte'), lt: r.int('lt'), lte: r.int('lte') }
  }
}
