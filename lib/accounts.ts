import 'server-only'
import crypto from 'node:crypto'
import { and, eq, isNull, lt, or, sql } from 'drizzle-orm'
import { cookies } from 'next/headers'
import { getDb, write, type Tx } from '@/db'
import { accounts, accountSessions, signInTokens } from '@/db/schema'
import { getEnv } from './env'
import { InvalidInput } from './errors'
import { formatAddress } from './addresses'
import * as jobs from './jobs'
import { log } from './log'
import * as optOuts from './mail-opt-outs'
import * as orders from './orders'
import * as stockAlerts from './stock-alerts'
import * as rateLimit from '@/lib/request/rate-limit'

// Shopper accounts without passwords. A shopper types an email and gets a single-use link,
// valid 15 minutes; following it proves the address, creates the account on first use and
// opens a session. Only sha256 hashes of link and session tokens are stored, so a copy of the
// database signs nobody in. The link's token is made by the job that mails it (never in the
// request, never in the job's payload), so no readable token is written anywhere.
//
// The answer to "send me a link" is the same whether or not an account exists: there is no
// difference between a known and an unknown address, since any address may become one.

const COOKIE = 'till_account'
const LINK_TTL_MS = 15 * 60 * 1000
/** A session lives this long after its last use (sliding expiry)… */
export const IDLE_MS = 30 * 24 * 3600 * 1000
/** …and never longer than this after sign-in. */
export const ABSOLUTE_MS = 180 * 24 * 3600 * 1000
export const MAIL_JOB = 'mail.sign_in_link'

export type Account = { id: number; email: string; stripeCustomerId: string | null; sessionId: string }

const sha256 = (token: string) => crypto.createHash('sha256').update(token).digest('hex')
const newToken = () => crypto.randomBytes(32).toString('base64url')
const TOKEN = /^[A-Za-z0-9_-]{43}$/

function normalizeEmail(email: string): string {
  return email.trim().toLowerCase()
}

/** The address as typed, checked; InvalidInput with a plain message otherwise. */
export function parseEmail(raw: unknown): string {
  const email = typeof raw === 'string' ? normalizeEmail(raw) : ''
  if (email === '') throw new InvalidInput('Enter your email address.')
  if (email.length > 254 || !/^[^@\s<>"]+@[^@\s<>"]+\.[^@\s<>"]+$/.test(email)) throw new InvalidInput('Enter a valid email address, like name@example.com.')
  return email
}

/**
 * A shopper asks for a sign-in link. Throws InvalidInput for a bad address and RateLimited
 * when this client address asked too often; otherwise queues the email (unless this address
 * had its share of links in the last 15 minutes) and returns the same nothing either way.
 */
export function requestLink(rawEmail: unknown, clientAddress: string | null, now = Date.now()): void {
  const email = parseEmail(rawEmail)
  rateLimit.takeSignInRequest(clientAddress, now)
  if (!rateLimit.mayMailSignInLink(email, LINK_TTL_MS, now)) {
    log.info('accounts: sign-in link not mailed, enough were sent to this address lately')
    return
  }
  write((tx) => jobs.enqueue(tx, MAIL_JOB, { email, requestedAt: now }, { maxAttempts: 4 }))
}

/**
 * Makes a sign-in link for `email` (the mail job calls it just before sending). Returns the
 * readable token for the email; only its hash is kept. Null when the request is older than
 * a link's life: a link mailed that late would be useless.
 */
export function issueLinkToken(email: string, requestedAt: number, now = Date.now()): string | null {
  if (now - requestedAt > LINK_TTL_MS) return null
  const token = newToken()
  write((tx) => {
    tx.insert(signInTokens).values({ id: sha256(token), email: normalizeEmail(email), expiresAt: now + LINK_TTL_MS, createdAt: now }).run()
    tx.delete(signInTokens).where(lt(signInTokens.expiresAt, now - 24 * 3600 * 1000)).run()
  })
  return token
}

export function linkUrl(token: string): string {
  return `${getEnv().appUrl}/account/sign-in/confirm?token=${token}`
}

/** The address a link is for while it can still be used, for the confirm page; else null. */
export function linkEmail(token: unknown, now = Date.now()): string | null {
  if (typeof token !== 'string' || !TOKEN.test(token)) return null
  const row = getDb()
    .select({ email: signInTokens.email })
    .from(signInTokens)
    .where(and(eq(signInTokens.id, sha256(token)), isNull(signInTokens.usedAt), sql`${signInTokens.expiresAt} > ${now}`))
    .get()
  return row?.email ?? null
}

export class LinkNotValid extends Error {
  constructor() {
    super('That sign-in link has expired or was already used. Ask for a new one below.')
    this.name = 'LinkNotValid'
  }
}

/**
 * Follows a sign-in link: uses it up (a conditional update, so two clicks at once sign in
 * once), creates the account on first use, and opens a new session. `previousToken` is the
 * session cookie the browser came with, if any: it is ended, so a session id planted before
 * sign-in is never the one that is signed in (rotation). Every other link to the address
 * dies with this one. Returns the new session's cookie token.
 */
export function signInWithLink(token: unknown, previousToken: string | undefined, now = Date.now()): { token: string; account: { id: number; email: string } } {
  if (typeof token !== 'string' || !TOKEN.test(token)) throw new LinkNotValid()
  const sessionToken = newToken()
  return write((tx) => {
    const used = tx
      .update(signInTokens)
      .set({ usedAt: now })
      .where(and(eq(signInTokens.id, sha256(token)), isNull(signInTokens.usedAt), sql`${signInTokens.expiresAt} > ${now}`))
      .returning({ email: signInTokens.email })
      .get()
    if (!used) throw new LinkNotValid()
    tx.update(signInTokens).set({ usedAt: now }).where(and(eq(signInTokens.email, used.email), isNull(signInTokens.usedAt))).run()
    tx.insert(accounts).values({ email: used.email, createdAt: now }).onConflictDoNothing({ target: accounts.email }).run()
    const account = tx.update(accounts).set({ lastSignInAt: now }).where(eq(accounts.email, used.email)).returning({ id: accounts.id, email: accounts.email }).get()!
    if (previousToken) tx.delete(accountSessions).where(eq(accountSessions.id, sha256(previousToken))).run()
    tx.insert(accountSessions).values({ id: sha256(sessionToken), accountId: account.id, expiresAt: now + IDLE_MS, createdAt: now }).run()
    tx.delete(accountSessions).where(and(eq(accountSessions.accountId, account.id), lt(accountSessions.expiresAt, now))).run()
    return { token: sessionToken, account }
  })
}

/** The account a session cookie belongs to, sliding the session's expiry; null when not valid. */
export function sessionFor(token: string | undefined, now = Date.now()): Account | null {
  if (!token || !TOKEN.test(token)) return null
  const id = sha256(token)
  const row = getDb()
    .select({ accountId: accountSessions.accountId, expiresAt: accountSessions.expiresAt, createdAt: accountSessions.createdAt, email: accounts.email, stripeCustomerId: accounts.stripeCustomerId })
    .from(accountSessions)
    .innerJoin(accounts, eq(accounts.id, accountSessions.accountId))
    .where(eq(accountSessions.id, id))
    .get()
  if (!row || row.expiresAt <= now || row.createdAt <= now - ABSOLUTE_MS) return null
  // Slide, but write at most once an hour per session.
  if (row.expiresAt < now + IDLE_MS - 3600_000) {
    write((tx) => tx.update(accountSessions).set({ expiresAt: now + IDLE_MS }).where(eq(accountSessions.id, id)).run())
  }
  return { id: row.accountId, email: row.email, stripeCustomerId: row.stripeCustomerId, sessionId: id }
}

/** Signs this browser out. */
export function endSession(token: string | undefined): void {
  if (!token || !TOKEN.test(token)) return
  write((tx) => tx.delete(accountSessions).where(eq(accountSessions.id, sha256(token))).run())
}

/** Signs the account out on every device, this one included. */
export function endAllSessions(accountId: number): number {
  return write((tx) => tx.delete(accountSessions).where(eq(accountSessions.accountId, accountId)).run().changes)
}

function sessionCount(accountId: number, now = Date.now()): number {
  return getDb()
    .select({ n: sql<number>`count(*)` })
    .from(accountSessions)
    .where(and(eq(accountSessions.accountId, accountId), sql`${accountSessions.expiresAt} > ${now}`))
    .get()!.n
}

/** Deletes sessions and links past their time (the nightly cleanup). */
export function purgeExpired(tx: Tx, now = Date.now()): number {
  const sessions = tx.delete(accountSessions).where(or(lt(accountSessions.expiresAt, now), lt(accountSessions.createdAt, now - ABSOLUTE_MS))).run().changes
  const links = tx.delete(signInTokens).where(lt(signInTokens.expiresAt, now)).run().changes
  return sessions + links
}

export type Overview = { orders: orders.OrderView[]; addresses: NonNullable<orders.OrderView['shippingAddress']>[] }

/** What /account shows: every order placed with the address, and the addresses shipped to. */
export function overview(account: Pick<Account, 'email'>): Overview {
  const list = orders.listForEmail(account.email)
  const seen = new Set<string>()
  const addresses: Overview['addresses'] = []
  for (const order of list) {
    const address = order.shippingAddress
    if (!address) continue
    const key = formatAddress(address).join('\n').toLowerCase()
    if (key === '' || seen.has(key)) continue
    seen.add(key)
    addresses.push(address)
  }
  return { orders: list, addresses }
}

/** One of the account's orders (placed with its address), or null. */
export function orderOf(account: Pick<Account, 'email'>, orderId: number): orders.OrderView | null {
  const order = orders.findById(orderId)
  return order && order.email?.trim().toLowerCase() === account.email ? order : null
}

/** Everything the shop keeps about the shopper, as they may download it. */
export function exportData(account: Account, now = Date.now()) {
  const row = findById(account.id)
  const { orders: list, addresses } = overview(account)
  return {
    exportedAt: new Date(now).toISOString(),
    account: { email: account.email, createdAt: row ? new Date(row.createdAt).toISOString() : null, lastSignInAt: row?.lastSignInAt ? new Date(row.lastSignInAt).toISOString() : null, hasStripeCustomer: !!row?.stripeCustomerId, activeSessions: sessionCount(account.id, now) },
    addresses,
    stockAlerts: stockAlerts.forEmail(account.email).map((a) => ({ variantId: a.variantId, requestedAt: new Date(a.createdAt).toISOString(), sentAt: a.sentAt ? new Date(a.sentAt).toISOString() : null, isWithdrawn: a.unsubscribedAt !== null })),
    unsubscribedFrom: optOuts.forEmail(account.email),
    orders: list.map((o) => ({
      number: o.id,
      placedAt: new Date(o.createdAt).toISOString(),
      status: o.status,
      currency: o.currency,
      totalCents: o.totalCents,
      subtotalCents: o.subtotalCents,
      shippingCents: o.shippingCents,
      taxCents: o.taxCents,
      discountCents: o.discountCents,
      refundedCents: o.refundedCents,
      email: o.email,
      name: o.customerName,
      shippingAddress: o.shippingAddress,
      paymentMethod: o.paymentMethod,
      carrier: o.carrier,
      trackingNumber: o.trackingNumber,
      lines: o.lines.map((l) => ({ title: l.title, sku: l.sku, quantity: l.quantity, unitAmountCents: l.unitAmountCents, totalCents: l.totalCents })),
    })),
  }
}

/**
 * Deletes the account: its sessions (every device is signed out), its links, and the row.
 * Orders stay, for the shop's books: they never pointed at the account, so nothing about
 * them changes.
 */
export function deleteAccount(accountId: number): boolean {
  return write((tx) => {
    const row = tx.delete(accounts).where(eq(accounts.id, accountId)).returning({ email: accounts.email }).get()
    if (!row) return false
    tx.delete(accountSessions).where(eq(accountSessions.accountId, accountId)).run()
    tx.delete(signInTokens).where(eq(signInTokens.email, row.email)).run()
    return true
  })
}

function findById(id: number) {
  return getDb().select().from(accounts).where(eq(accounts.id, id)).get() ?? null
}

/** Keeps the Stripe Customer made for this account; the first one stored wins. */
export function setStripeCustomer(accountId: number, customerId: string): string {
  return write((tx) => {
    tx.update(accounts).set({ stripeCustomerId: customerId }).where(and(eq(accounts.id, accountId), isNull(accounts.stripeCustomerId))).run()
    return tx.select({ id: accounts.stripeCustomerId }).from(accounts).where(eq(accounts.id, accountId)).get()?.id ?? customerId
  })
}

// ---------------------------------------------------------------------------------------
// The cookie. Path / so checkout and the product pages' forms see it; HttpOnly, SameSite=Lax,
// Secure whenever the shop is served over https.

function cookieOptions() {
  return {
    httpOnly: true,
    secure: getEnv().appUrl.startsWith('https:'),
    sameSite: 'lax' as const,
    path: '/',
    maxAge: Math.floor(ABSOLUTE_MS / 1000),
  }
}

export async function cookieToken(): Promise<string | undefined> {
  return (await cookies()).get(COOKIE)?.value
}

/** The signed-in shopper, or null. Reading it makes a page dynamic: never on catalog pages. */
export async function current(): Promise<Account | null> {
  return sessionFor(await cookieToken())
}

/** Server actions only: sets the session cookie after sign-in. */
export async function setCookie(token: string): Promise<void> {
  ;(await cookies()).set(COOKIE, token, cookieOptions())
}

/** Server actions only: forgets the session cookie. */
export async function clearCookie(): Promise<void> {
  ;(await cookies()).set(COOKIE, '', { ...cookieOptions(), maxAge: 0 })
}
