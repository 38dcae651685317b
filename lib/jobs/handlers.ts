import 'server-only'
import { transaction } from '@/db/tx'
import * as accounts from '@/lib/accounts'
import * as adminAuth from '@/lib/admin-auth'
import * as backups from '@/lib/platform/backups'
import * as cache from '@/lib/cache'
import * as checkoutReminders from '@/lib/checkout-reminders'
import * as downloads from '@/lib/downloads'
import { getEnv } from '@/lib/env'
import * as inventory from '@/lib/inventory'
import { log } from '@/lib/log'
import * as mail from '@/lib/mail'
import { orderConfirmation } from '@/lib/mail/order-confirmation'
import { orderRefunded } from '@/lib/mail/order-refunded'
import { ownerOversold } from '@/lib/mail/owner-oversold'
import { adminInvite } from '@/lib/mail/admin-invite'
import { orderShipped } from '@/lib/mail/order-shipped'
import { signInLink } from '@/lib/mail/sign-in-link'
import * as orders from '@/lib/orders'
import * as reconcile from '@/lib/reconcile'
import * as stockAlerts from '@/lib/stock-alerts'
import * as staff from '@/lib/staff'
import * as jobs from '@/lib/jobs'

// What the background worker does, by job kind, and when the scheduled ones run.

export const handlers: Record<string, jobs.JobHandler> = {
  'mail.order_confirmation': async (payload) => {
    const order = await orders.findById(Number(payload.orderId))
    if (!order) throw new Error(`order ${String(payload.orderId)} not found`)
    if (!order.email) {
      log.warn('mail: order has no email address; confirmation skipped', { orderId: order.id })
      return
    }
    // Checked again at send time: a refund or dispute may have landed since it was queued.
    if (!orders.isConfirmable(order.status, order.disputeStatus)) {
      log.info('mail: order no longer paid and undisputed; confirmation skipped', { orderId: order.id, status: order.status })
      return
    }
    const message = orderConfirmation(order, await downloads.linksFor(order))
    // A resend from the admin is a message of its own (its own file, its own Message-ID).
    await mail.send(typeof payload.resend === 'string' ? { ...message, id: `${message.id}-resend-${payload.resend}` } : message)
  },
  'mail.order_shipped': async (payload) => {
    const order = await orders.findById(Number(payload.orderId))
    if (!order) throw new Error(`order ${String(payload.orderId)} not found`)
    if (!order.email) return
    await mail.send(orderShipped(order))
  },
  'mail.order_refunded': async (payload) => {
    const order = await orders.findById(Number(payload.orderId))
    if (!order) throw new Error(`order ${String(payload.orderId)} not found`)
    if (!order.email) return
    await mail.send(orderRefunded(order, { amountCents: Number(payload.amountCents), refundedCents: Number(payload.refundedCents) }))
  },
  'mail.owner_oversold': async (payload) => {
    const order = await orders.findById(Number(payload.orderId))
    if (!order) throw new Error(`order ${String(payload.orderId)} not found`)
    const variantIds = Array.isArray(payload.variantIds) ? payload.variantIds.map(Number) : []
    // One file or message per admin; a retry rewrites the same ones.
    for (const to of await adminAuth.adminEmails()) await mail.send(ownerOversold(order, to, variantIds))
  },
  // The link's token is made here, just before sending, so only its hash is ever stored.
  [accounts.MAIL_JOB]: async (payload, job) => {
    const email = String(payload.email)
    const token = await accounts.issueLinkToken(email, Number(payload.requestedAt))
    if (!token) {
      log.info('mail: sign-in link request too old to send', { job: job.id })
      return
    }
    await mail.send(signInLink(email, accounts.linkUrl(token), `sign-in-${job.id}`))
  },
  [checkoutReminders.MAIL_JOB]: async (payload) => {
    await checkoutReminders.send(Number(payload.reminderId))
  },
  [stockAlerts.MAIL_JOB]: async (payload) => {
    await stockAlerts.send(Number(payload.alertId))
  },
  // Holds lapse by the clock too, with no write to announce it: a sweep every minute.
  'stock_alerts.scan': async () => {
    await stockAlerts.scanIfWaiting()
  },
  'accounts.purge_expired': async () => {
    await transaction((tx, t) => accounts.purgingExpired(tx, t, Date.now()))
  },
  'mail.admin_invite': async (payload, job) => {
    const invite = await staff.isPending(Number(payload.inviteId))
    const token = typeof payload.token === 'string' ? payload.token : null
    if (!invite || !token) {
      log.info('mail: invitation no longer pending; not sent', { inviteId: payload.inviteId })
    } else {
      await mail.send(adminInvite(invite, token))
    }
    // The link works like a password until it expires: once sent, the queue forgets it.
    await jobs.forgetPayload(job.id)
  },
  reconcile: async () => {
    await reconcile.run()
  },
  // Expired holds stop counting at once; this sweep releases them, which marks their variants
  // changed (the cached pages that show them refresh), and prunes the change log.
  'holds.release_expired': async () => {
    const released = await transaction(function* (tx, t) {
      yield* cache.pruningChanges()
      return yield* inventory.releasingExpired(tx, t)
    })
    if (released) log.info('inventory: released expired holds', { released })
  },
  // Online backup into STORAGE_DIR/backups, verified, then the old ones thinned out.
  'backups.run': async () => {
    // A job queued before the store moved to PostgreSQL (db:move-to-postgres copies the queue).
    if (getEnv().databaseUrl) {
      log.info('backups: skipped; the store runs on PostgreSQL, whose backups are its own (docs/operations.md)')
      return
    }
    const backup = await backups.run()
    const removed = backups.prune()
    log.info('backups: done', { file: backup.file, removed: removed.length })
  },
  'carts.purge_idle': async () => {
    const cart = await import('@/lib/cart')
    await cart.purgeIdle(Date.now())
  },
}

export function schedules(): jobs.Schedule[] {
  return [
    { kind: 'reconcile', cron: '*/5 * * * *' },
    { kind: 'holds.release_expired', cron: '* * * * *' },
    { kind: 'stock_alerts.scan', cron: '* * * * *' },
    { kind: 'carts.purge_idle', cron: '17 3 * * *' },
    { kind: 'accounts.purge_expired', cron: '23 3 * * *' },
    // SQLite's online backup of STORAGE_DIR's file; on PostgreSQL the database's own backups
    // (base backups and WAL archiving, docs/operations.md) take its place.
    ...(getEnv().databaseUrl ? [] : [{ kind: 'backups.run', cron: everyMinutes(backups.intervalMs() / 60_000) }]),
  ]
}

/**
 * A cron for "every N minutes": within an hour, minutes that divide it evenly (an interval
 * that does not divide 60 restarts at each full hour); past an hour, whole hours.
 */
export function everyMinutes(minutes: number): string {
  if (minutes < 60) return `*/${Math.max(1, Math.round(minutes))} * * * *`
  const hours = Math.max(1, Math.round(minutes / 60))
  return hours >= 24 ? '0 0 * * *' : `0 */${hours} * * *`
}

// Every kind in `schedules` runs under a lease named after it (lib/jobs/lease.ts), so a
// scheduled task never overlaps with itself, in this process or the other one of a deploy.
export async function start(): Promise<jobs.Worker> {
  // A reconcile at every boot catches whatever happened while no process was listening (no
  // unique key: in a deploy storm each new release must look for itself; the lease keeps it
  // from overlapping a reconcile already running elsewhere).
  await transaction((tx, t) => jobs.enqueueing(tx, t, 'reconcile', { reason: 'boot', pid: process.pid }, { maxAttempts: 3 }))
  return jobs.startWorker(handlers, schedules())
}
