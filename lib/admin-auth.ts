import 'server-only'
import crypto from 'node:crypto'
import { promisify } from 'node:util'
import { and, count, eq, gt, inArray, isNull, lt, ne, or, sql } from 'drizzle-orm'
import { all, get, read, run, serialize, transaction, type Steps, type Tables, type Writer } from '@/db/tx'
import * as audit from './audit'
import { getEnv } from './env'
import { InvalidInput } from './errors'
import { log } from './log'

// Admin sign-in. Passwords are scrypt hashes; a session is a random token in an httpOnly
// cookie and only its sha256 is stored, so a copy of the database cannot be used to sign in.
// Every admin page, server action and route handler calls requireAdmin() itself: a layout
// check alone would not cover actions and handlers, which are reachable without the page.
// Sessions, challenges and failed sign-ins are rows every app server reads and writes through
// db/tx.ts, so a session opened on one server is good on all, and ended on one, ends on all.

const scrypt = promisify(crypto.scrypt) as (password: string, salt: Buffer, keylen: number, options: crypto.ScryptOptions) => Promise<Buffer>

const SCRYPT = { N: 16384, r: 8, p: 1 }
const KEY_LENGTH = 64
export const COOKIE = 'till_admin'
/** A session lives this long after its last use (sliding expiry)… */
export const IDLE_MS = 12 * 3600 * 1000
/** …and never longer than this after sign-in. */
const ABSOLUTE_MS = 30 * 24 * 3600 * 1000
const RATE_WINDOW_MS = 15 * 60 * 1000
/**
 * Failed sign-ins allowed per window for one email from one client address, and for one
 * client address over every email. Past either, that address is refused for the window.
 * One email alone is never locked (anyone could lock the owner out by failing on purpose
 * from many addresses); its attempts are slowed instead (slowdownMs).
 */
export const MAX_FAILURES_PER_EMAIL_AND_CLIENT = 5
export const MAX_FAILURES_PER_CLIENT = 10
/** Failures of one email, from any address, before every attempt on it waits. */
const SLOWDOWN_AFTER_FAILURES = 5
/** The longest an attempt waits, however many failures an email has. */
export const MAX_SLOWDOWN_MS = 3000
export const MIN_PASSWORD = 12

export type Role = 'owner' | 'staff'
export type Admin = {
  id: number
  email: string
  role: Role
  sessionId: string
  /** signs in with a second factor (lib/two-factor.ts) */
  hasTwoFactor: boolean
  /** the owner requires a second factor and this admin has none yet: enrol before anything else */
  mustEnrol: boolean
}

export async function hashPassword(password: string): Promise<string> {
  const salt = crypto.randomBytes(16)
  const hash = await scrypt(password, salt, KEY_LENGTH, { ...SCRYPT, maxmem: 64 * 1024 * 1024 })
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${hash.toString('base64')}`
}

async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$')
  if (scheme !== 'scrypt' || !salt || !hash) return false
  const expected = Buffer.from(hash, 'base64')
  const actual = await scrypt(password, Buffer.from(salt, 'base64'), expected.length, { N: Number(n), r: Number(r), p: Number(p), maxmem: 64 * 1024 * 1024 })
  return actual.length === expected.length && crypto.timingSafeEqual(actual, expected)
}

// Compared against when the email is unknown, so both answers take as long.
const DUMMY_HASH = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$' + Buffer.alloc(KEY_LENGTH).toString('base64')

const sha256 = (token: string) => crypto.createHash('sha256').update(token).digest('hex')

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase()
}

/** Every admin's email: who hears of what needs the owner (an oversold order). */
export async function adminEmails(): Promise<string[]> {
  const rows = await read(function* (db, t) {
    return yield* all(db.select({ email: t.adminUsers.email }).from(t.adminUsers))
  })
  return rows.map((r) => r.email)
}

function adminCount(): Promise<number> {
  return read(function* (db, t) {
    return Number((yield* get(db.select({ n: count() }).from(t.adminUsers)))!.n)
  })
}

/** Creates an admin; throws InvalidInput for a bad email, a short password or a taken email. */
export async function createAdmin(emailRaw: string, password: string): Promise<{ id: number; email: string }> {
  const email = normalizeEmail(emailRaw)
  if (!/^[^@\s]+@[^@\s]+$/.test(email) || email.length > 254) throw new InvalidInput('Enter a valid email address.')
  if (password.length < MIN_PASSWORD) throw new InvalidInput(`The password must be at least ${MIN_PASSWORD} characters.`)
  const passwordHash = await hashPassword(password)
  return transaction(function* (tx, t) {
    const row = yield* get(tx.insert(t.adminUsers).values({ email, passwordHash }).onConflictDoNothing().returning({ id: t.adminUsers.id, email: t.adminUsers.email }))
    if (!row) throw new InvalidInput(`An admin with the email ${email} already exists.`)
    return row
  })
}

/** The demo's owner, made at its first boot (below). */
export const DEMO_OWNER_EMAIL = 'owner@till.localhost'

/**
 * At boot, when the store has no admin yet: the first admin comes from ADMIN_EMAIL and
 * ADMIN_PASSWORD when both are set (tests, a scripted demo); else a demo (SEED_DEMO=1 with the
 * emulator) gets an owner with a random password, said once in the log with where to sign
 * in. A public demo never has a password anyone could read in the code. A deployed store
 * gets its first admin from `npm run admin:create`, run once. Returns who was made, if anyone.
 */
export async function ensureBootAdmin(): Promise<{ email: string; source: 'env' | 'demo' } | null> {
  const env = getEnv()
  if ((await adminCount()) > 0) return null
  const fromEnv = env.adminEmail && env.adminPassword ? { email: env.adminEmail, password: env.adminPassword } : null
  const isDemo = env.seedDemo && env.payments === 'emulator'
  if (!fromEnv && !isDemo) return null
  const email = fromEnv?.email ?? DEMO_OWNER_EMAIL
  // 16 characters from 96 random bits: nobody guesses it, and it can be typed from the log.
  const password = fromEnv?.password ?? crypto.randomBytes(12).toString('base64url')
  try {
    await createAdmin(email, password)
  } catch (err) {
    // Two processes booting together: the other one created it (and said so).
    if (err instanceof InvalidInput && (await adminCount()) > 0) return null
    throw err
  }
  if (fromEnv) {
    log.info('admin: created the first admin from ADMIN_EMAIL', { email: normalizeEmail(email) })
    return { email: normalizeEmail(email), source: 'env' }
  }
  log.warn(
    `demo: the shop's owner is ${email} with the password ${password} (shown this once). Sign in at ${env.appUrl}/admin/sign-in; change the password under Account, or make another admin with npm run admin:create -- you@example.com`,
  )
  return { email, source: 'demo' }
}

function* failuresSince(tx: Writer, t: Tables, key: string, since: number): Steps<number> {
  const row = yield* get(
    tx
      .select({ n: count() })
      .from(t.adminLoginFailures)
      .where(and(eq(t.adminLoginFailures.key, key), gt(t.adminLoginFailures.createdAt, since))),
  )
  return Number(row!.n)
}

export class RateLimited extends Error {
  constructor() {
    super('Too many failed sign-in attempts from this address. Wait 15 minutes and try again.')
    this.name = 'RateLimited'
  }
}

/**
 * How long an attempt on an email with `failures` recent failures (from any address) waits
 * before its password is checked: nothing for the first few, then doubling from 250 ms up to
 * MAX_SLOWDOWN_MS. The owner still gets in; a guesser gets a few attempts a second at most.
 */
function slowdownMs(failures: number): number {
  if (failures < SLOWDOWN_AFTER_FAILURES) return 0
  return Math.min(MAX_SLOWDOWN_MS, 250 * 2 ** Math.min(failures - SLOWDOWN_AFTER_FAILURES, 8))
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

function failureKeys(email: string, clientAddress: string) {
  return { emailKey: `email:${email}`, pairKey: `pair:${email}|${clientAddress}`, clientKey: `client:${clientAddress}` }
}

/**
 * Checks a password and opens a session, or for an admin with a second factor a challenge
 * (secondFactor: true, lib/two-factor.ts); returns its new cookie token. Refuses (RateLimited)
 * once this email has failed too often from this client address, or this address too often
 * over all emails, before even looking at the password. Failures of the email from other
 * addresses only slow it down, so no one can lock the owner out from elsewhere.
 *
 * Every attempt is counted as a failure before its password is checked, and forgiven only
 * when it turns out right: guesses sent at once (to one app server or to several) are each
 * counted against the limit, not all checked against the count from before any of them.
 */
export async function signIn(
  emailRaw: string,
  password: string,
  clientAddress: string,
  now = Date.now(),
  wait: (ms: number) => Promise<void> = sleep,
): Promise<{ token: string; admin: { id: number; email: string }; secondFactor: boolean }> {
  const email = normalizeEmail(emailRaw)
  const { emailKey, pairKey, clientKey } = failureKeys(email, clientAddress)
  const since = now - RATE_WINDOW_MS
  const attempt = await transaction(function* (tx, t) {
    // Both limits count this address's attempts, so its attempts take turns here: on
    // PostgreSQL, under READ COMMITTED, two servers would otherwise both count four and both
    // add a fifth. (SQLite's one writer already takes turns.)
    yield* serialize(`admin-sign-in:${clientKey}`)
    if ((yield* failuresSince(tx, t, pairKey, since)) >= MAX_FAILURES_PER_EMAIL_AND_CLIENT || (yield* failuresSince(tx, t, clientKey, since)) >= MAX_FAILURES_PER_CLIENT) throw new RateLimited()
    const delay = slowdownMs(yield* failuresSince(tx, t, emailKey, since))
    const rows = yield* all(
      tx
        .insert(t.adminLoginFailures)
        .values([emailKey, pairKey, clientKey].map((key) => ({ key, createdAt: now })))
        .returning({ id: t.adminLoginFailures.id, key: t.adminLoginFailures.key }),
    )
    yield* run(tx.delete(t.adminLoginFailures).where(lt(t.adminLoginFailures.createdAt, now - 24 * 3600 * 1000)))
    return { delay, clientRowId: rows.find((r) => r.key === clientKey)!.id }
  })
  if (attempt.delay > 0) await wait(attempt.delay)
  const user = await read(function* (db, t) {
    return yield* get(db.select().from(t.adminUsers).where(eq(t.adminUsers.email, email)))
  })
  const isValid = await verifyPassword(password, user?.passwordHash ?? DUMMY_HASH)
  // wrong: the attempt stays counted
  if (!user || !isValid) throw new InvalidInput('That email and password do not match.')
  const token = crypto.randomBytes(32).toString('base64url')
  // With a second factor, the right password opens a challenge, not a session: the token is
  // then the challenge's, which no session lookup accepts, until the code is checked.
  const secondFactor = user.totpEnabledAt !== null
  await transaction(function* (tx, t) {
    if (secondFactor) yield* startingChallenge(tx, t, token, user.id, now)
    else yield* openingSession(tx, t, token, { id: user.id, email: user.email }, clientAddress, now)
    // right: this email's failures from here are forgiven, and this attempt's count on the address
    yield* run(tx.delete(t.adminLoginFailures).where(or(inArray(t.adminLoginFailures.key, [emailKey, pairKey]), eq(t.adminLoginFailures.id, attempt.clientRowId))))
  })
  return { token, admin: { id: user.id, email: user.email }, secondFactor }
}

/** Opens a session for a cookie token, as a step of the caller's transaction, and records the sign-in. */
export function* openingSession(tx: Writer, t: Tables, token: string, user: { id: number; email: string }, clientAddress: string, now: number): Steps<void> {
  yield* run(tx.insert(t.adminSessions).values({ id: sha256(token), userId: user.id, expiresAt: now + IDLE_MS, createdAt: now }))
  yield* run(tx.delete(t.adminSessions).where(and(eq(t.adminSessions.userId, user.id), lt(t.adminSessions.expiresAt, now))))
  yield* audit.recording(tx, t, user, 'admin.sign_in', `admin:${user.id}`, null, { client: clientAddress })
}


// ---------------------------------------------------------------------------------------
// Second-factor challenges: the password was right, the code is still due.

export const CHALLENGE_COOKIE = 'till_admin_2fa'
/** A challenge lasts this long; then the password is asked again. */
export const CHALLENGE_MS = 5 * 60 * 1000

function* startingChallenge(tx: Writer, t: Tables, token: string, userId: number, now: number): Steps<void> {
  yield* run(tx.delete(t.adminChallenges).where(lt(t.adminChallenges.expiresAt, now)))
  yield* run(tx.insert(t.adminChallenges).values({ id: sha256(token), userId, expiresAt: now + CHALLENGE_MS, createdAt: now }))
}

/** The open challenge a cookie token names: its id (hash), user and wrong attempts; null when none. */
export async function challengeFor(token: string | undefined, now = Date.now()): Promise<{ id: string; userId: number; email: string; attempts: number } | null> {
  if (!token || token.length > 100) return null
  const row = await read(function* (db, t) {
    return yield* get(
      db
        .select({ id: t.adminChallenges.id, userId: t.adminChallenges.userId, email: t.adminUsers.email, attempts: t.adminChallenges.attempts, expiresAt: t.adminChallenges.expiresAt })
        .from(t.adminChallenges)
        .innerJoin(t.adminUsers, eq(t.adminUsers.id, t.adminChallenges.userId))
        .where(and(eq(t.adminChallenges.id, sha256(token)), isNull(t.adminUsers.removedAt))),
    )
  })
  if (!row || row.expiresAt <= now) return null
  return { id: row.id, userId: row.userId, email: row.email, attempts: row.attempts }
}

/**
 * The way back in from the server (`npm run admin:unlock`): forgets the failed sign-ins of
 * one email (from every address), or every failure when no email is given. Returns how many
 * were forgotten.
 */
export function unlock(emailRaw?: string): Promise<number> {
  return transaction(function* (tx, t) {
    if (!emailRaw) return (yield* run(tx.delete(t.adminLoginFailures))).changes
    const email = normalizeEmail(emailRaw)
    // keys are written lower-case (normalizeEmail), so LIKE's case rules, which differ by engine, do not matter
    const pairs = sql`${t.adminLoginFailures.key} LIKE ${`pair:${email.replace(/[\\%_]/g, (c) => `\\${c}`)}|%`} ESCAPE '\\'`
    return (yield* run(tx.delete(t.adminLoginFailures).where(or(eq(t.adminLoginFailures.key, `email:${email}`), pairs)))).changes
  })
}

/** The admin a cookie token belongs to, sliding the session's expiry; null when not valid. */
export async function sessionFor(token: string | undefined, now = Date.now()): Promise<Admin | null> {
  if (!token || token.length > 100) return null
  const id = sha256(token)
  const row = await read(function* (db, t) {
    return yield* get(
      db
        .select({
          userId: t.adminSessions.userId,
          expiresAt: t.adminSessions.expiresAt,
          createdAt: t.adminSessions.createdAt,
          email: t.adminUsers.email,
          role: t.adminUsers.role,
          totpEnabledAt: t.adminUsers.totpEnabledAt,
          requireTwoFactor: sql<number | null>`(SELECT ${t.adminSettings.requireTwoFactor} FROM ${t.adminSettings} WHERE ${t.adminSettings.id} = 1)`,
        })
        .from(t.adminSessions)
        .innerJoin(t.adminUsers, eq(t.adminUsers.id, t.adminSessions.userId))
        // the role is read on every request, so a change or a removal holds from the next one
        .where(and(eq(t.adminSessions.id, id), isNull(t.adminUsers.removedAt))),
    )
  })
  if (!row || row.expiresAt <= now || row.createdAt <= now - ABSOLUTE_MS) return null
  // Slide, but write at most once a minute per session; never backwards, whichever server's request lands last.
  if (row.expiresAt < now + IDLE_MS - 60_000) {
    await transaction(function* (tx, t) {
      yield* run(tx.update(t.adminSessions).set({ expiresAt: now + IDLE_MS }).where(and(eq(t.adminSessions.id, id), lt(t.adminSessions.expiresAt, now + IDLE_MS))))
    })
  }
  const hasTwoFactor = row.totpEnabledAt !== null
  return { id: row.userId, email: row.email, role: row.role, sessionId: id, hasTwoFactor, mustEnrol: !!row.requireTwoFactor && !hasTwoFactor }
}

export async function endSession(token: string | undefined): Promise<void> {
  if (!token) return
  await transaction(function* (tx, t) {
    yield* run(tx.delete(t.adminSessions).where(eq(t.adminSessions.id, sha256(token))))
  })
}

/** Changes the password after checking the current one; every other session is signed out. */
export async function changePassword(admin: Admin, current: string, next: string): Promise<void> {
  if (next.length < MIN_PASSWORD) throw new InvalidInput(`The new password must be at least ${MIN_PASSWORD} characters.`, 'next')
  if (next.length > 500) throw new InvalidInput('The new password is too long.', 'next')
  const user = await read(function* (db, t) {
    return yield* get(db.select({ passwordHash: t.adminUsers.passwordHash }).from(t.adminUsers).where(eq(t.adminUsers.id, admin.id)))
  })
  if (!user || !(await verifyPassword(current, user.passwordHash))) throw new InvalidInput('The current password is not right.', 'current')
  const passwordHash = await hashPassword(next)
  await transaction(function* (tx, t) {
    yield* run(tx.update(t.adminUsers).set({ passwordHash }).where(eq(t.adminUsers.id, admin.id)))
    yield* run(tx.delete(t.adminSessions).where(and(eq(t.adminSessions.userId, admin.id), ne(t.adminSessions.id, admin.sessionId))))
    yield* audit.recording(tx, t, admin, 'admin.password_change', `admin:${admin.id}`)
  })
}

// ---------------------------------------------------------------------------------------
// Request side: cookies and the guard. Next's request APIs are imported where they are used,
// so scripts (npm run admin:create) and boot can use the functions above outside Next.

async function requestHeaders() {
  return (await import('next/headers')).headers()
}

async function redirectTo(url: string): Promise<never> {
  const { redirect } = await import('next/navigation')
  return redirect(url)
}

export function cookieOptions() {
  return {
    httpOnly: true,
    secure: getEnv().appUrl.startsWith('https:'),
    sameSite: 'lax' as const,
    path: '/admin',
    maxAge: Math.floor(ABSOLUTE_MS / 1000),
  }
}

/** The client's address under the one trusted-proxy rule (lib/request/client-address.ts); 'unknown' without one. */
export async function clientAddress(): Promise<string> {
  return (await (await import('@/lib/request/client-address')).current()) ?? 'unknown'
}

/**
 * Refuses a request whose Origin is another site's. Browsers send Origin on every POST, so
 * a cross-site form post to an admin action or to sign-in ends here (SameSite=Lax already
 * keeps the cookie off it; this is the second lock).
 */
export async function assertSameOrigin(): Promise<void> {
  const h = await requestHeaders()
  const origin = h.get('origin')
  if (!origin) return
  const allowed = new Set([new URL(getEnv().appUrl).origin])
  const host = h.get('x-forwarded-host') ?? h.get('host')
  if (host) {
    const proto = h.get('x-forwarded-proto') ?? new URL(getEnv().appUrl).protocol.replace(':', '')
    allowed.add(`${proto}://${host}`)
  }
  if (!allowed.has(origin)) {
    log.warn('admin: refused a cross-origin request', { origin })
    const flash = await import('@/lib/request/flash')
    await redirectTo(flash.href('/admin/sign-in', 'error', 'Request refused: it came from another site.'))
  }
}

/** The signed-in admin, or null. */
export async function currentAdmin(): Promise<Admin | null> {
  const jar = await (await import('next/headers')).cookies()
  return sessionFor(jar.get(COOKIE)?.value)
}

/**
 * The guard. Call it first in every admin page, server action and route handler: without a
 * valid session (or from another origin) it redirects to sign-in and nothing else runs.
 */
export async function requireAdmin(): Promise<Admin> {
  const admin = await requireSession()
  if (admin.mustEnrol) {
    const flash = await import('@/lib/request/flash')
    return redirectTo(flash.href(ENROL_PAGE, 'error', 'The owner requires two-factor sign-in: set it up to continue.'))
  }
  return admin
}

/** Where an admin sets up a second factor; the one admin page open to one who must enrol. */
export const ENROL_PAGE = '/admin/account'

/**
 * The guard without the enrolment rule, for the account page (where a second factor is set
 * up) and signing out only; everything else uses requireAdmin.
 */
export async function requireSession(): Promise<Admin> {
  await assertSameOrigin()
  const admin = await currentAdmin()
  if (!admin) return redirectTo('/admin/sign-in')
  return admin
}
