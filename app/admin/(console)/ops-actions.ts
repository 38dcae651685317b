'use server'

import { z } from 'zod'
import { done, fail } from '../_components/redirect'
import * as audit from '@/lib/audit'
import { InvalidInput } from '@/lib/errors'
import * as jobs from '@/lib/jobs'
import * as reconcile from '@/lib/reconcile'
import * as staff from '@/lib/staff'
import * as stripeEvents from '@/lib/orders/events'

// The operations buttons: replay a webhook event, retry a failed job, reconcile now.

export async function replayEventAction(formData: FormData): Promise<void> {
  const admin = await staff.requirePermission('operations')
  const parsed = z.string().regex(/^evt_[A-Za-z0-9_]{1,200}$/).safeParse(formData.get('eventId'))
  if (!parsed.success) fail('/admin/events', 'That is not a Stripe event id.')
  const eventId = parsed.data
  const before = await stripeEvents.find(eventId)
  let result: { outcome: string; error?: string }
  try {
    result = await stripeEvents.replay(eventId)
  } catch (err) {
    if (err instanceof InvalidInput) fail('/admin/events', err.message)
    fail('/admin/events', `Could not read ${eventId} from Stripe: ${err instanceof Error ? err.message : String(err)}`)
  }
  await audit.changing(admin, 'webhook.replay', `event:${eventId}`, function* () {
    return { before: before ? { processed: !!before.processedAt, error: before.error } : null, after: result, result: undefined }
  })
  if (result.outcome === 'failed') fail('/admin/events', `Replay of ${eventId} failed again: ${result.error ?? 'unknown error'}`)
  done('/admin/events', `Replayed ${eventId}: ${result.outcome === 'duplicate' ? 'it had already been applied, nothing changed' : result.outcome}.`)
}

export async function retryJobAction(formData: FormData): Promise<void> {
  const admin = await staff.requirePermission('operations')
  const parsed = z.coerce.number().int().positive().max(2 ** 53).safeParse(formData.get('jobId'))
  if (!parsed.success) fail('/admin/jobs', 'That job does not exist.')
  const id = parsed.data
  const retried = await audit.changing(admin, 'job.retry', `job:${id}`, function* (tx, t) {
    const row = yield* jobs.retrying(tx, t, id)
    return { before: row ? { status: 'failed', lastError: row.lastError } : null, after: row ? { status: 'queued' } : null, result: row }
  })
  if (!retried) fail('/admin/jobs', `Job ${id} is not a failed job (it may have been retried already).`)
  done('/admin/jobs', `Job ${id} (${retried.kind}) is queued to run again.`)
}

export async function reconcileNowAction(): Promise<void> {
  const admin = await staff.requirePermission('operations')
  let report: reconcile.ReconcileReport
  try {
    report = await reconcile.runAlone()
  } catch (err) {
    if (err instanceof reconcile.AlreadyRunning) fail('/admin/reconciliation', err.message)
    fail('/admin/reconciliation', `Reconciliation could not finish: ${err instanceof Error ? err.message : String(err)}`)
  }
  await audit.note(admin, 'reconcile.run', 'reconcile', { eventsSeen: report.eventsSeen, sessionsSeen: report.sessionsSeen, ordersCreated: report.ordersCreated, mismatches: report.mismatches.length, failures: report.failures.length })
  done('/admin/reconciliation', `Reconciled: ${report.eventsSeen} events and ${report.sessionsSeen} sessions checked, ${report.ordersCreated} orders repaired, ${report.failures.length} failures.`)
}
