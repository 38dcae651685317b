import 'server-only'
import crypto from 'node:crypto'
import { and, count, eq, gt, isNotNull, isNull, lt, or, sql } from 'drizzle-orm'
import * as OTPAuth from 'otpauth'
import QRCode from 'qrcode'
import { get, read, run, serialize, transaction, type Reader, type Steps, type Tables } from '@/db/tx'
import * as adminAuth from './admin-auth'
import * as audit from './audit'
import { getEnv } from './env'
import { InvalidInput, NotFound } from './errors'

// The second factor for admin sign-in: TOTP (RFC 6238, the six-digit codes of any
// authenticator app) enrolled by QR code, and ten single-use recovery codes for a lost phone.
// Passkeys were left out: a one-person shop signs in from one or two devices, an authenticator
// app covers them, and a lost device is recovered from the server (npm run admin:reset-2fa).
//
// A code works once: the 30-second step of the last accepted code is kept and a code must be
// of a later step, checked in the same UPDATE that records it. Code entry is slowed twice
// over: a challenge takes MAX_ATTEMPTS_PER_CHALLENGE wrong codes and then asks for the
// password again, and MAX_CODE_FAILURES wrong codes in the window lock the person's code
// entry, whatever challenge they come through.

export const RECOVERY_CODE_COUNT = 10
const MAX_ATTEMPTS_PER_CHALLENGE = 5
const MAX_CODE_FAILURES = 5
const WINDOW_MS = 15 * 60 * 1000
const PERIOD_S = 30
// Recovery codes: 16 characters of an alphabet without look-alikes (about 79 bits each).
const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789'

const sha256 = (text: string) => crypto.createHash('sha256').update(text).digest('hex')

function totp(secretBase32: string, email: string): OTPAuth.TOTP {
  return new OTPAuth.TOTP({ issuer: getEnv().storeName, label: email, algorithm: 'SHA1', digits: 6, period: PERIOD_S, secret: OTPAuth.Secret.fromBase32(secretBase32) })
}

/** The 30-second step an accepted code belongs to, or null when the code is not right now. */
function acceptedStep(secretBase32: string, email: string, code: string, now: number): number | null {
  const delta = totp(secretBase32, email).validate({ token: code, timestamp: now, window: 1 })
  return delta === null ? null : Math.floor(now / 1000 / PERIOD_S) + delta
}

function recoveryCode(): string {
  const bytes = crypto.randomBytes(16)
  const chars = [...bytes].map((b) => ALPHABET[b % ALPHABET.length]).join('')
  return chars.match(/.{4}/g)!.join('-')
}

/** What a person types, as stored: lower case, no dashes or spaces. */
function normalizeRecovery(code: string): string {
  return code.toLowerCase().replace(/[^a-z0-9]/g, '')
}

export type Status = { isEnabled: boolean; recoveryCodesLeft: number; pending: { secret: string; uri: string } | null }

export function status(admin: { id: number; email: string }): Promise<Status> {
  return read(function* (db, t) {
    const row = yield* enrolmentOf(db, t, admin.id)
    const left = yield* recoveryCodesLeft(db, t, admin.id)
    const isEnabled = !!row?.enabledAt
    const pending = !isEnabled && row?.secret ? { secret: row.secret, uri: totp(row.secret, admin.email).toString() } : null
    return { isEnabled, recoveryCodesLeft: isEnabled ? left : 0, pending }
  })
}

/** The person's secret, and since when it is in force (null while enrolment waits for its code). */
function* enrolmentOf(db: Reader, { adminUsers }: Tables, userId: number): Steps<{ secret: string | null; enabledAt: number | null } | undefined> {
  return yield* get(db.select({ secret: adminUsers.totpSecret, enabledAt: adminUsers.totpEnabledAt }).from(adminUsers).where(eq(adminUsers.id, userId)))
}

/** Recovery codes not used yet (PostgreSQL's count is a bigint: a number here on both engines). */
function* recoveryCodesLeft(db: Reader, { adminRecoveryCodes }: Tables, userId: number): Steps<number> {
  const row = yield* get(db.select({ n: count() }).from(adminRecoveryCodes).where(and(eq(adminRecoveryCodes.userId, userId), isNull(adminRecoveryCodes.usedAt))))
  return Number(row?.n ?? 0)
}

/** Starts enrolment: a new secret, not yet in force until a code from it is confirmed. */
export async function beginEnrolment(admin: audit.Actor): Promise<void> {
  const secret = new OTPAuth.Secret({ size: 20 }).base32
  const { changes } = await transaction((tx, { adminUsers }) => run(tx.update(adminUsers).set({ totpSecret: secret }).where(and(eq(adminUsers.id, admin.id), isNull(adminUsers.totpEnabledAt)))))
  if (changes === 0) throw new InvalidInput('Two-factor sign-in is already on.')
}

/** The enrolment QR code as an SVG document (drawn here; the secret never leaves the server otherwise). */
export function qrSvg(uri: string): Promise<string> {
  return QRCode.toString(uri, { type: 'svg', margin: 1, errorCorrectionLevel: 'M' })
}

/**
 * Confirms enrolment with a code from the app: from now on sign-in asks for a code. Returns
 * the ten recovery codes, to be shown once; only their hashes are kept.
 */
export async function confirmEnrolment(admin: audit.Actor, codeRaw: string, now = Date.now()): Promise<string[]> {
  const code = codeRaw.replace(/\s/g, '')
  if (!/^\d{6}$/.test(code)) throw new InvalidInput('Enter the six-digit code your app shows.')
  // read outside the transaction: checking the code takes no lock, and the update below
  // enables only the secret that was checked
  const row = await read((db, t) => enrolmentOf(db, t, admin.id))
  if (!row?.secret || row.enabledAt) throw new InvalidInput('Start the set-up again: there is no code to confirm.')
  const secret = row.secret
  const step = acceptedStep(secret, admin.email, code, now)
  if (step === null) throw new InvalidInput('That code is not right. Check the time on your phone and enter the code it shows now.')
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, recoveryCode)
  await audit.changing(admin, 'admin.two_factor_enable', `admin:${admin.id}`, function* (tx, t) {
    const { changes } = yield* run(
      tx
        .update(t.adminUsers)
        .set({ totpEnabledAt: now, totpLastStep: step })
        .where(and(eq(t.adminUsers.id, admin.id), isNull(t.adminUsers.totpEnabledAt), eq(t.adminUsers.totpSecret, secret))),
    )
    if (changes === 0) throw new InvalidInput('Two-factor sign-in is already on.')
    yield* run(tx.delete(t.adminRecoveryCodes).where(eq(t.adminRecoveryCodes.userId, admin.id)))
    yield* run(tx.insert(t.adminRecoveryCodes).values(codes.map((c) => ({ userId: admin.id, codeHash: sha256(normalizeRecovery(c)), createdAt: now }))))
    return { before: { twoFactor: false }, after: { twoFactor: true, recoveryCodes: RECOVERY_CODE_COUNT }, result: undefined }
  })
  return codes
}

function* codeFailures(tx: Reader, t: Tables, userId: number, now: number): Steps<number> {
  const row = yield* get(
    tx
      .select({ n: count() })
      .from(t.adminLoginFailures)
      .where(and(eq(t.adminLoginFailures.key, `code:${userId}`), gt(t.adminLoginFailures.createdAt, now - WINDOW_MS))),
  )
  return Number(row!.n)
}

/** The challenge is gone (expired, used, or too many wrong codes): sign in with the password again. */
export class ChallengeGone extends Error {
  constructor() {
    super('The sign-in timed out or had too many wrong codes. Enter your email and password again.')
    this.name = 'ChallengeGone'
  }
}

export type Verified = { token: string; admin: { id: number; email: string }; usedRecoveryCode: boolean; recoveryCodesLeft: number }

/**
 * Completes a sign-in waiting for its second factor: a six-digit code from the app, or one of
 * the recovery codes. Right, the challenge is spent and a session opens (its new token is
 * returned) in one transaction; wrong, the attempt is counted against the challenge and the
 * person. Checking a code awaits nothing, so the limits are checked, and a wrong code counted,
 * in the same transaction: codes sent at once, to one app server or several, take turns.
 */
export async function verifyChallenge(challengeToken: string | undefined, codeRaw: string, clientAddress: string, now = Date.now()): Promise<Verified> {
  const challenge = await adminAuth.challengeFor(challengeToken, now)
  if (!challenge || challenge.attempts >= MAX_ATTEMPTS_PER_CHALLENGE) throw new ChallengeGone()
  const code = codeRaw.trim()
  const isTotp = /^\d{3} ?\d{3}$/.test(code)
  const recoveryHash = isTotp ? null : sha256(normalizeRecovery(code))
  const token = crypto.randomBytes(32).toString('base64url')
  const outcome = await transaction(function* (tx, t) {
    // the person's wrong codes are counted across every challenge and app server: theirs take turns
    yield* serialize(`admin-code:${challenge.userId}`)
    const attempts = (yield* get(tx.select({ n: t.adminChallenges.attempts }).from(t.adminChallenges).where(eq(t.adminChallenges.id, challenge.id))))?.n
    if (attempts === undefined || attempts >= MAX_ATTEMPTS_PER_CHALLENGE) throw new ChallengeGone()
    if ((yield* codeFailures(tx, t, challenge.userId, now)) >= MAX_CODE_FAILURES) throw new adminAuth.RateLimited()
    const user = yield* get(tx.select({ secret: t.adminUsers.totpSecret, email: t.adminUsers.email }).from(t.adminUsers).where(eq(t.adminUsers.id, challenge.userId)))
    if (!user?.secret) throw new ChallengeGone()
    const admin = { id: challenge.userId, email: user.email }
    const step = isTotp ? acceptedStep(user.secret, user.email, code.replace(' ', ''), now) : null
    let ok = false
    if (step !== null) {
      // later than the last accepted step only: a code seen over a shoulder is spent
      ok = (yield* run(tx.update(t.adminUsers).set({ totpLastStep: step }).where(and(eq(t.adminUsers.id, admin.id), or(isNull(t.adminUsers.totpLastStep), lt(t.adminUsers.totpLastStep, step)))))).changes === 1
    } else if (recoveryHash && normalizeRecovery(code).length === 16) {
      ok = (yield* run(tx.update(t.adminRecoveryCodes).set({ usedAt: now }).where(and(eq(t.adminRecoveryCodes.userId, admin.id), eq(t.adminRecoveryCodes.codeHash, recoveryHash), isNull(t.adminRecoveryCodes.usedAt))))).changes === 1
    }
    // the challenge is spent by whichever request gets here first
    if (ok && (yield* run(tx.delete(t.adminChallenges).where(and(eq(t.adminChallenges.id, challenge.id), lt(t.adminChallenges.attempts, MAX_ATTEMPTS_PER_CHALLENGE))))).changes === 1) {
      yield* adminAuth.openingSession(tx, t, token, admin, clientAddress, now)
      if (recoveryHash) yield* audit.recording(tx, t, admin, 'admin.recovery_code_used', `admin:${admin.id}`, null, { client: clientAddress })
      yield* run(tx.delete(t.adminLoginFailures).where(eq(t.adminLoginFailures.key, `code:${admin.id}`)))
      return { isAccepted: true as const, admin, recoveryCodesLeft: yield* recoveryCodesLeft(tx, t, admin.id) }
    }
    if (ok) throw new ChallengeGone()
    yield* run(tx.update(t.adminChallenges).set({ attempts: sql`${t.adminChallenges.attempts} + 1` }).where(eq(t.adminChallenges.id, challenge.id)))
    yield* run(tx.insert(t.adminLoginFailures).values({ key: `code:${admin.id}`, createdAt: now }))
    const failures = yield* codeFailures(tx, t, admin.id, now)
    return { isAccepted: false as const, left: Math.min(MAX_ATTEMPTS_PER_CHALLENGE - attempts - 1, MAX_CODE_FAILURES - failures) }
  })
  if (!outcome.isAccepted) {
    if (outcome.left <= 0) throw new ChallengeGone()
    throw new InvalidInput(`That code is not right (${outcome.left} ${outcome.left === 1 ? 'try' : 'tries'} left). Enter the code your app shows now, or a recovery code.`)
  }
  return { token, admin: outcome.admin, usedRecoveryCode: recoveryHash !== null, recoveryCodesLeft: outcome.recoveryCodesLeft }
}

/**
 * From the server (npm run admin:reset-2fa -- email): turns the second factor off for a
 * person who lost their phone and their recovery codes, and signs them out everywhere. They
 * sign in with the password and set it up again.
 */
export async function reset(emailRaw: string, operator: string): Promise<{ id: number; email: string }> {
  const email = adminAuth.normalizeEmail(emailRaw)
  return transaction(function* (tx, t) {
    const user = yield* get(
      tx
        .select({ id: t.adminUsers.id, email: t.adminUsers.email, enabledAt: t.adminUsers.totpEnabledAt })
        .from(t.adminUsers)
        .where(and(eq(t.adminUsers.email, email), isNull(t.adminUsers.removedAt))),
    )
    if (!user) throw new NotFound(`An admin with the email ${email}`)
    yield* run(tx.update(t.adminUsers).set({ totpSecret: null, totpEnabledAt: null, totpLastStep: null }).where(eq(t.adminUsers.id, user.id)))
    yield* run(tx.delete(t.adminRecoveryCodes).where(eq(t.adminRecoveryCodes.userId, user.id)))
    yield* run(tx.delete(t.adminChallenges).where(eq(t.adminChallenges.userId, user.id)))
    yield* run(tx.delete(t.adminSessions).where(eq(t.adminSessions.userId, user.id)))
    yield* audit.recording(tx, t, { id: user.id, email: operator }, 'admin.two_factor_reset', `admin:${user.id}`, { twoFactor: user.enabledAt !== null }, { twoFactor: false })
    return { id: user.id, email: user.email }
  })
}

/** How many admins sign in with a second factor, of how many (for the owner's setting). */
export function coverage(): Promise<{ enrolled: number; people: number }> {
  return read(function* (db, { adminUsers }) {
    const people = yield* get(db.select({ n: count() }).from(adminUsers).where(isNull(adminUsers.removedAt)))
    const enrolled = yield* get(db.select({ n: count() }).from(adminUsers).where(and(isNull(adminUsers.removedAt), isNotNull(adminUsers.totpEnabledAt))))
    return { enrolled: Number(enrolled?.n ?? 0), people: Number(people?.n ?? 0) }
  })
}
