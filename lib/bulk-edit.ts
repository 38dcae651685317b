import 'server-only'
import { eq, inArray } from 'drizzle-orm'
import { all, get, run, transaction } from '@/db/tx'
import type * as adminAuth from './admin-auth'
import * as audit from './audit'
import * as cache from './cache'
import { InvalidInput } from './errors'
import * as inventory from './inventory'
import { parseMoney } from './money'
import * as staff from './staff'

// Prices and stock of many variants at once, from the admin's products list. One submit is
// one transaction: every row is checked, and a single refused row refuses them all, with a
// message per row and field, so nothing is half-saved. Stock is applied as the difference
// between what the owner typed and what the page showed them (docs/decisions/035-bulk-edit.md):
// a sale made while the page was open is kept, never overwritten.

/** The most rows one submit may carry (the page shows fewer). */
export const MAX_ROWS = 200

/** One row as the form posts it: the typed price and stock, and what the page showed. */
export type Row = { variantId: number; price: string; stock: string; seenPriceCents: string; seenStock: string }

type Change = { variantId: number; sku: string; priceCents?: { from: number; to: number }; stock?: { seen: number; delta: number; after: number } }

export type Result = { ok: true; prices: number; stockChanges: number; changes: Change[] } | { ok: false; errors: Record<string, string> }

/** The form field of a row's message: `price-<variantId>` or `stock-<variantId>`. */
export const fieldOf = (what: 'price' | 'stock', variantId: number) => `${what}-${variantId}`

// Thrown inside the transaction so that it rolls back, carrying the messages out of it.
class Refused extends Error {
  constructor(readonly errors: Record<string, string>) {
    super('bulk edit refused')
  }
}

const WHOLE = /^\d{1,9}$/

/**
 * Applies the changed rows in one transaction, audited once: a changed price is set, a
 * changed stock moves by (typed − seen) through the stock ledger, and a row that would take
 * stock below zero, or any bad input, refuses the whole submit. Unchanged rows are skipped.
 */
export async function apply(admin: audit.Actor & { role: adminAuth.Role }, rows: Row[]): Promise<Result> {
  if (!staff.can(admin, 'products') || !staff.can(admin, 'stock')) return { ok: false, errors: { '': 'Only the owner can change prices and stock.' } }
  if (rows.length > MAX_ROWS) return { ok: false, errors: { '': `Save at most ${MAX_ROWS} rows at once.` } }
  const ids = rows.map((r) => r.variantId)
  if (new Set(ids).size !== ids.length || ids.some((id) => !Number.isSafeInteger(id) || id <= 0)) return { ok: false, errors: { '': 'The form is damaged; reload the page and try again.' } }
  try {
    return await transaction(function* (tx, t) {
      const { variants } = t
      const found = ids.length ? yield* all(tx.select({ id: variants.id, sku: variants.sku, priceCents: variants.priceCents, currency: variants.currency }).from(variants).where(inArray(variants.id, ids))) : []
      const byId = new Map(found.map((v) => [v.id, v]))
      const errors: Record<string, string> = {}
      const changes: Change[] = []
      for (const row of rows) {
        const variant = byId.get(row.variantId)
        if (!variant) {
          errors[''] = 'A variant on this page was deleted meanwhile; reload the page.'
          continue
        }
        if (!WHOLE.test(row.seenPriceCents) || !WHOLE.test(row.seenStock)) {
          errors[''] = 'The form is damaged; reload the page and try again.'
          continue
        }
        const change: Change = { variantId: variant.id, sku: variant.sku }
        const price = parseMoney(row.price, variant.currency, { what: `The price of SKU ${variant.sku}` })
        if (!price.ok) errors[fieldOf('price', variant.id)] = price.message
        else if (price.cents !== Number(row.seenPriceCents)) change.priceCents = { from: variant.priceCents, to: price.cents }
        const typed = row.stock.trim()
        if (!WHOLE.test(typed)) errors[fieldOf('stock', variant.id)] = `The stock of SKU ${variant.sku} must be a whole number, 0 or more.`
        else {
          const seen = Number(row.seenStock)
          const delta = Number(typed) - seen
          if (delta !== 0) change.stock = { seen, delta, after: 0 }
        }
        if (change.priceCents || change.stock) changes.push(change)
      }
      if (Object.keys(errors).length) throw new Refused(errors)
      for (const change of changes) {
        if (change.priceCents) {
          const { changes: updated } = yield* run(tx.update(variants).set({ priceCents: change.priceCents.to, updatedAt: Date.now() }).where(eq(variants.id, change.variantId)))
          if (updated !== 1) throw new Refused({ '': 'A variant on this page was deleted meanwhile; reload the page.' })
        }
        if (change.stock) {
          try {
            // by the difference, in one conditional UPDATE (inventory.adjusting): never below
            // zero, and a sale or hold committed meanwhile, on any app server, is kept
            change.stock.after = (yield* inventory.adjusting(tx, t, { variantId: change.variantId, delta: change.stock.delta, note: `bulk edit (saw ${change.stock.seen})`, adminUserId: admin.id })).stockAfter
          } catch (err) {
            // the shelf fell below what this change takes away (sales since the page loaded);
            // no statement failed (the update matched no row), so the transaction goes on
            if (!(err instanceof InvalidInput)) throw err
            const now = (yield* get(tx.select({ stock: variants.stock }).from(variants).where(eq(variants.id, change.variantId))))?.stock ?? 0
            errors[fieldOf('stock', change.variantId)] = `The stock of SKU ${change.sku} would go below zero: the page showed ${change.stock.seen}, there are ${now} now. Reload the page to see the current figure.`
          }
        }
      }
      if (Object.keys(errors).length) throw new Refused(errors)
      const prices = changes.filter((c) => c.priceCents).length
      const stockChanges = changes.filter((c) => c.stock).length
      if (changes.length) yield* audit.recording(tx, t, admin, 'variant.bulk_edit', `variants:${changes.length}`, null, { changes })
      // a price shows on every page that lists the product; stock marks itself (inventory.adjusting)
      if (prices) yield* cache.markingCatalogChanged(tx, t)
      return { ok: true as const, prices, stockChanges, changes }
    })
  } catch (err) {
    if (err instanceof Refused) return { ok: false, errors: err.errors }
    throw err
  }
}
