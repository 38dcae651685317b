import crypto from 'node:crypto'
import http from 'node:http'
import https from 'node:https'
import type { EmulatedEvent } from './objects'
import type { DeliveryRow, Store } from './store'

// The webhook delivery loop, apart from the payment state machine (emulator.ts) that emits the
// events: a durable queue in the emulator's own SQLite file, each attempt signed as Stripe signs
// (`Stripe-Signature: t=…,v1=…`), sent with a timeout, and on failure retried on a schedule
// until it runs out (Stripe's at-least-once delivery). The emulator's background tick calls
// `startDue`; the test controls call `flush` and `list`.

const DEFAULT_RETRY_SCHEDULE = [1000, 2000, 5000, 15000, 60000, 300000, 3600000]

export type DeliveryInfo = {
  id: number
  event_id: string
  event_type: string
  url: string
  status: 'pending' | 'delivered' | 'failed'
  attempts: number
  last_status: number | null
  last_error: string | null
  next_attempt_at: number | null
  delivered_at: number | null
  created_at: number
}

type DeliveryLog = { warn(message: string, context?: Record<string, unknown>): void }

type DeliveryOptions = {
  store: Store
  webhookSecret: string
  /** Wait before retry n (ms); after the last one a delivery is marked failed. */
  retrySchedule?: number[]
  /** An attempt that takes longer fails (default 10 s). */
  timeoutMs?: number
  maxConcurrent?: number
  log: DeliveryLog
}

export function sign(payload: string, secret: string, timestamp: number): string {
  const signature = crypto.createHmac('sha256', secret).update(`${timestamp}.${payload}`, 'utf8').digest('hex')
  return `t=${timestamp},v1=${signature}`
}

function post(url: string, body: string, headers: Record<string, string>, timeoutMs: number): Promise<{ status: number; body: string } | { error: string }> {
  return new Promise((resolve) => {
    let target: URL
    try {
      target = new URL(url)
    } catch {
      resolve({ error: `invalid webhook URL: ${url}` })
      return
    }
    let isDone = false
    const finish = (result: { status: number; body: string } | { error: string }) => {
      if (isDone) return
      isDone = true
      clearTimeout(timer)
      resolve(result)
    }
    const client = target.protocol === 'https:' ? https : http
    const req = client.request(target, { method: 'POST', headers: { ...headers, 'Content-Length': String(Buffer.byteLength(body)) } }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        if (text.length < 2000) text += chunk
      })
      res.on('end', () => finish({ status: res.statusCode ?? 0, body: text.slice(0, 2000) }))
      res.on('error', (err) => finish({ error: err.message }))
    })
    const timer = setTimeout(() => {
      req.destroy(new Error(`timed out after ${timeoutMs} ms`))
    }, timeoutMs)
    req.on('error', (err) => finish({ error: err.message || String(err) }))
    req.end(body)
  })
}

export class WebhookDeliveries {
  private readonly store: Store
  private readonly webhookSecret: string
  private readonly retrySchedule: number[]
  private readonly timeoutMs: number
  private readonly maxConcurrent: number
  private readonly log: DeliveryLog
  private readonly inFlight = new Set<Promise<void>>()

  constructor(options: DeliveryOptions) {
    this.store = options.store
    this.webhookSecret = options.webhookSecret
    this.retrySchedule = options.retrySchedule?.length ? options.retrySchedule : DEFAULT_RETRY_SCHEDULE
    this.timeoutMs = options.timeoutMs ?? 10_000
    this.maxConcurrent = options.maxConcurrent ?? 4
    this.log = options.log
  }

  /** Queues the event for `url`, in the caller's transaction; the next tick sends it. */
  enqueue(eventId: string, url: string): void {
    this.store.insertDelivery(eventId, url, Date.now())
  }

  /** The event as the API shows it now: pending_webhooks counts undelivered attempts. */
  current(event: EmulatedEvent): EmulatedEvent {
    return { ...event, pending_webhooks: this.store.pendingDeliveries(event.id) }
  }

  /** Starts the due (or, with force, all pending) deliveries, up to the concurrency limit unless forced. */
  startDue(force: boolean): Promise<void>[] {
    if (!this.store.isOpen) return []
    const capacity = force ? 1000 : this.maxConcurrent - this.inFlight.size
    const rows = this.store.claimDeliveries(Date.now(), capacity, this.timeoutMs + 5000, force)
    return rows.map((row) => {
      const attempt = this.attempt(row).finally(() => this.inFlight.delete(attempt))
      this.inFlight.add(attempt)
      return attempt
    })
  }

  /** Sends due (or, with force, all pending) deliveries now and waits for the attempts. */
  async flush(opts: { force?: boolean } = {}): Promise<number> {
    const attempts = this.startDue(!!opts.force)
    await Promise.allSettled(attempts)
    return attempts.length
  }

  /** Waits for the attempts in flight (before the store closes). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.inFlight])
  }

  list(filter: { eventId?: string; status?: string } = {}): DeliveryInfo[] {
    return this.store.deliveries(filter).map((d) => ({
      id: d.id,
      event_id: d.event_id,
      event_type: d.event_type,
      url: d.url,
      status: d.status,
      attempts: d.attempts,
      last_status: d.last_status,
      last_error: d.last_error,
      next_attempt_at: d.status === 'pending' ? d.next_attempt_at : null,
      delivered_at: d.delivered_at,
      created_at: d.created_at,
    }))
  }

  private async attempt(row: DeliveryRow): Promise<void> {
    const event = this.store.getEvent<EmulatedEvent>(row.event_id)
    if (!event) return
    const payload = JSON.stringify(this.current(event), null, 2)
    const timestamp = Math.floor(Date.now() / 1000)
    const result = await post(
      row.url,
      payload,
      {
        'Content-Type': 'application/json; charset=utf-8',
        'Stripe-Signature': sign(payload, this.webhookSecret, timestamp),
        'User-Agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
        'Cache-Control': 'no-cache',
      },
      this.timeoutMs,
    )
    if (!this.store.isOpen) return
    const isOk = 'status' in result && result.status >= 200 && result.status < 300
    const attempts = row.attempts + 1
    const delay = this.retrySchedule[attempts - 1]
    const now = Date.now()
    this.store.recordAttempt(row.id, {
      ok: isOk,
      status: 'status' in result ? result.status : null,
      error: isOk ? null : 'error' in result ? result.error : `HTTP ${result.status}: ${result.body.slice(0, 500)}`,
      nowMs: now,
      nextAttemptAt: isOk || delay === undefined ? null : now + delay,
    })
    if (!isOk) {
      this.log.warn('emulator: webhook delivery failed', {
        eventId: row.event_id,
        attempt: attempts,
        result: 'status' in result ? result.status : result.error,
        willRetry: delay !== undefined,
      })
    }
  }
}
