import 'server-only'
import { write } from '@/db'
import * as inventory from '@/lib/inventory'
import { log } from '@/lib/log'
import * as mail from '@/lib/mail'
import { orderConfirmation } from '@/lib/mail/order-confirmation'
import { orderShipped } from '@/lib/mail/order-shipped'
import * as orders from '@/lib/orders'
import * as reconcile from '@/lib/reconcile'
import * as jobs from '@/lib/jobs'

// What the background worker does, by job kind, and when the scheduled ones run.

export const handlers: Record<string, jobs.JobHandler> = {
  'mail.order_confirmation': async (payload) => {
    const order = orders.findById(Number(payload.orderId))
    if (!order) throw new Error(`order ${String(payload.orderId)} not found`)
    if (!order.email) {
      log.warn('mail: order has no email address; confirmation skipped', { orderId: order.id })
      return
    }
    await mail.send(orderConfirmation(order))
  },
  'mail.order_shipped': async (payload) => {
    const order = orders.findById(Number(payload.orderId))
    if (!order) throw new Error(`order ${String(payload.orderId)} not found`)
    if (!order.email) return
    await mail.send(orderShipped(order))
  },
  reconcile: async () => {
    await reconcile.run()
  },
  'holds.release_expired': () => {
    const released = write((tx) => inventory.releaseExpired(tx))
    if (released) log.info('inventory: released expired holds', { released })
  },
  'carts.purge_idle': async () => {
    const cart = await import('@/lib/cart')
    cart.purgeIdle(Date.now())
  },
}

export const schedules: jobs.Schedule[] = [
  { kind: 'reconcile', cron: '*/5 * * * *' },
  { kind: 'holds.release_expired', cron: '* * * * *' },
  { kind: 'carts.purge_idle', cron: '17 3 * * *' },
]

export function start() {
  // A reconcile at every boot catches whatever happened while no process was listening (no
  // unique key: in a deploy storm each new release must look for itself).
  write((tx) => jobs.enqueue(tx, 'reconcile', { reason: 'boot', pid: process.pid }, { maxAttempts: 3 }))
  return jobs.startWorker(handlers, schedules)
}
