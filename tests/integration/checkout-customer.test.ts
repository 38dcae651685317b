import { eq } from 'drizzle-orm'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { write } from '@/db'
import { accounts as accountsTable } from '@/db/schema'
import * as accounts from '@/lib/accounts'
import * as checkout from '@/lib/checkout'
import { insertCart, insertVariant } from '../support/catalog-rows'
import { startPaymentsEnv, type PaymentsEnv } from '../support/payments-env'

// "Checkout remembers": a signed-in shopper's Checkout Session is made for their Stripe
// Customer, created once per account and stored against it, so Stripe's page prefills.

let env: PaymentsEnv
beforeEach(async () => {
  env = await startPaymentsEnv()
})
afterEach(() => env.close())

function newAccount(email: string): accounts.Account {
  const row = write((tx) => tx.insert(accountsTable).values({ email }).returning().get())
  return { id: row.id, email: row.email, stripeCustomerId: null, sessionId: 'test' }
}

const storedCustomer = (id: number) => env.t.db.select({ c: accountsTable.stripeCustomerId }).from(accountsTable).where(eq(accountsTable.id, id)).get()!.c

describe('checkout for a signed-in shopper', () => {
  it('creates the Customer once (even for two checkouts at once), stores it, and Checkout starts from it', async () => {
    const { variantId } = insertVariant({ stock: 10 })
    const shopper = newAccount('sam@example.com')
    const [a, b] = await Promise.all([checkout.start(insertCart([{ variantId, quantity: 1 }]), null, shopper), checkout.start(insertCart([{ variantId, quantity: 1 }]), null, shopper)])
    const customerId = storedCustomer(shopper.id)
    expect(customerId).toMatch(/^cus_/)
    const [sa, sb] = await Promise.all([env.stripe.checkout.sessions.retrieve(a.sessionId), env.stripe.checkout.sessions.retrieve(b.sessionId)])
    expect([sa.customer, sb.customer]).toEqual([customerId, customerId])
    expect(sa.customer_details?.email).toBe('sam@example.com')
    const customer = await env.stripe.customers.retrieve(customerId!)
    expect(customer).toMatchObject({ email: 'sam@example.com', metadata: { account_id: String(shopper.id) } })

    // The shopper pays; the address they enter is saved on the Customer and the next
    // checkout's page starts with it.
    env.stripeServer.emulator.control.pay({ session: a.sessionId, name: 'Sam Shopper', address: { line1: '1 Harbour Street', city: 'Portland', postal_code: '04101', country: 'US' } })
    const next = await checkout.start(insertCart([{ variantId, quantity: 1 }]), null, { ...shopper, stripeCustomerId: customerId })
    const page = await (await fetch(next.url)).text()
    expect(page).toContain('value="sam@example.com"')
    expect(page).toContain('value="1 Harbour Street"')
    expect(storedCustomer(shopper.id)).toBe(customerId)
  })

  it('a guest checks out as before, with no Customer', async () => {
    const { variantId } = insertVariant({ stock: 10 })
    const { sessionId } = await checkout.start(insertCart([{ variantId, quantity: 1 }]))
    expect((await env.stripe.checkout.sessions.retrieve(sessionId)).customer).toBeNull()
  })
})
