import 'server-only'
import crypto from 'node:crypto'
import { and, asc, eq, gt, isNull, ne, sql } from 'drizzle-orm'
import { all, get, read, run, serialize, transaction, type Reader, type Steps, type Tables, type Writer } from '@/db/tx'
import * as adminAuth from './admin-auth'
import * as audit from './audit'
import { InvalidInput, NotFound } from './errors'
import * as flash from '@/lib/request/flash'
import * as jobs from './jobs'
import { formatMoney } from './money'

// The people who run the store and what each may do. Two roles: the owner does everything;
// staff handle orders, shipping, stock and products, and may refund up to a limit the owner
// sets. The role is read from the database on every request (adminAuth.sessionFor), and every
// page, server action and route handler asks for its permission itself (requirePermission),
// never trusting the navigation that hid the link.

export type Role = adminAuth.Role
const ROLES: readonly Role[] = ['owner', 'staff']

export type Permission = 'orders' | 'products' | 'stock' | 'discounts' | 'staff' | 'settings' | 'operations'

const STAFF_MAY: ReadonlySet<Permission> = new Set(['orders', 'products', 'stock'])

const REFUSALS: Record<Permission, string> = {
  orders: 'Only the owner can manage orders.',
  products: 'Only the owner can change products.',
  stock: 'Only the owner can change stock.',
  discounts: 'Only the owner can manage discounts.',
  staff: 'Only the owner can manage staff.',
  settings: 'Only the owner can change settings.',
  operations: 'Only the owner can see webhooks, jobs, reconciliation and the audit log.',
}

export function can(who: { role: Role }, permission: Permission): boolean {
  return who.role === 'owner' || STAFF_MAY.has(permission)
}

/**
 * The guard with a role: the signed-in admin when they may do `permission`. Without a
 * session (or from another site) it leads to sign-in like requireAdmin; a signed-in admin
 * without the permission is sent to the dashboard with the reason, and nothing else runs.
 */
export async function requirePermission(permission: Permission): Promise<adminAuth.Admin> {
  const admin = await adminAuth.requireAdmin()
  if (can(admin, permission)) return admin
  const { redirect } = await import('next/navigation')
  return redirect(flash.href('/admin', 'error', REFUSALS[permission]))
}

/** For a route handler: 403 with the reason, or null when the admin may go on. */
export function refusal(admin: adminAuth.Admin, permission: Permission): Response | null {
  if (can(admin, permission)) return null
  return new Response(`${REFUSALS[permission]}\n`, { status: 403, headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'private, no-store' } })
}

// ---------------------------------------------------------------------------------------
// The owner's rules for staff

export type Policy = { staffRefundLimitCents: number; requireTwoFactor: boolean }

export function policy(): Promise<Policy> {
  return read(policyReading)
}

/** Writes the one settings row, made on its first change. */
function* savingSettings(tx: Writer, { adminSettings }: Tables, set: Partial<Policy>): Steps<void> {
  const values = { ...set, updatedAt: Date.now() }
  yield* run(tx.insert(adminSettings).values({ id: 1, ...values }).onConflictDoUpdate({ target: adminSettings.id, set: values }))
}

/** policy, as a step of a transaction on either engine (the settings' writers read it in theirs). */
function* policyReading(db: Reader, { adminSettings }: Tables): Steps<Policy> {
  const row = yield* get(
    db.select({ staffRefundLimitCents: adminSettings.staffRefundLimitCents, requireTwoFactor: adminSettings.requireTwoFactor }).from(adminSettings).where(eq(adminSettings.id, 1)),
  )
  return { staffRefundLimitCents: row?.staffRefundLimitCents ?? 0, requireTwoFactor: row?.requireTwoFactor ?? false }
}

/** The most this admin may refund at once, or null for no limit (the owner). */
async function refundLimitFor(admin: { role: Role }): Promise<number | null> {
  return admin.role === 'owner' ? null : (await policy()).staffRefundLimitCents
}

/** Why this admin may not refund `amountCents`, or null when they may. */
export async function refundRefusal(admin: { role: Role }, amountCents: number, currency: string): Promise<string | null> {
  const limit = await refundLimitFor(admin)
  if (limit === null || amountCents <= limit) return null
  return limit === 0 ? 'Only the owner can send refunds.' : `Refunds above ${formatMoney(limit, currency)} need the owner.`
}

const MAX_REFUND_LIMIT_CENTS = 100_000_000

export async function setRefundLimit(actor: audit.Actor, cents: number): Promise<void> {
  if (!Number.isSafeInteger(cents) || cents < 0 || cents > MAX_REFUND_LIMIT_CENTS) throw new InvalidInput('Enter a refund limit of zero or more, like 50.00.')
  await audit.changing(actor, 'settings.staff_refund_limit', 'settings', function* (tx, t) {
    const { staffRefundLimitCents } = yield* policyReading(tx, t)
    yield* savingSettings(tx, t, { staffRefundLimitCents: cents })
    return { before: { staffRefundLimitCents }, after: { staffRefundLimitCents: cents }, result: undefined }
  })
}

/**
 * Requires (or stops requiring) a second factor of every admin; one without is sent to set
 * it up at their next request. Only an owner who has one may turn it on, so the switch never
 * locks its own author out of the settings.
 */
export async function setRequireTwoFactor(actor: adminAuth.Admin, required: boolean): Promise<void> {
  if (required && !actor.hasTwoFactor) throw new InvalidInput('Set up two-factor sign-in for yourself first (Account), then require it of everyone.')
  await audit.changing(actor, 'settings.require_two_factor', 'settings', function* (tx, t) {
    const { requireTwoFactor } = yield* policyReading(tx, t)
    yield* savingSettings(tx, t, { requireTwoFactor: required })
    return { before: { requireTwoFactor }, after: { requireTwoFactor: required }, result: undefined }
  })
}

// ---------------------------------------------------------------------------------------
// People and invitations

export const INVITE_TTL_MS = 72 * 3600 * 1000
const REMOVED_PASSWORD = 'removed'

const sha256 = (token: string) => crypto.createHash('sha256').update(token).digest('hex')

export type Member = { id: number; email: string; role: Role; createdAt: number }
export type PendingInvite = { id: number; email: string; role: Role; expiresAt: number; createdAt: number }

export function members(): Promise<Member[]> {
  return read(function* (db, { adminUsers }) {
    return yield* all(
      db
        .select({ id: adminUsers.id, email: adminUsers.email, role: adminUsers.role, createdAt: adminUsers.createdAt })
        .from(adminUsers)
        .where(isNull(adminUsers.removedAt))
        .orderBy(asc(adminUsers.id)),
    )
  })
}

/** The columns of an invitation the pages and the mail show. */
const inviteColumns = ({ adminInvites }: Tables) => ({ id: adminInvites.id, email: adminInvites.email, role: adminInvites.role, expiresAt: adminInvites.expiresAt, createdAt: adminInvites.createdAt })

/** Neither accepted, withdrawn nor expired at `now`. */
const isStanding = ({ adminInvites }: Tables, now: number) => and(isNull(adminInvites.acceptedAt), isNull(adminInvites.revokedAt), gt(adminInvites.expiresAt, now))

export function pendingInvites(now = Date.now()): Promise<PendingInvite[]> {
  return read(function* (db, t) {
    return yield* all(db.select(inviteColumns(t)).from(t.adminInvites).where(isStanding(t, now)).orderBy(asc(t.adminInvites.id)))
  })
}

function parseRole(raw: string): Role {
  const role = ROLES.find((r) => r === raw)
  if (!role) throw new InvalidInput('Choose a role: owner or staff.')
  return role
}

/**
 * Invites `email` with `role`: a single-use link, valid for INVITE_TTL_MS, mailed through the
 * job queue. A newer invitation to the same address replaces any still pending. The link's
 * token rides in the job's payload until it is sent (the mail handler then clears it); the
 * invitation keeps only its hash.
 */
export async function invite(actor: audit.Actor, emailRaw: string, roleRaw: string, now = Date.now()): Promise<{ inviteId: number; token: string }> {
  const email = adminAuth.normalizeEmail(emailRaw)
  if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email) || email.length > 254) throw new InvalidInput('Enter a valid email address, like sam@example.com.')
  const role = parseRole(roleRaw)
  const token = crypto.randomBytes(32).toString('base64url')
  return transaction(function* (tx, t) {
    // Two invitations to one address at once (a double click, two owners) must leave one
    // pending: each withdraws the pending ones it can see, and on PostgreSQL neither would see
    // the other's new row. One invitation per address at a time.
    yield* serialize(`staff.invite:${email}`)
    const taken = yield* get(tx.select({ id: t.adminUsers.id }).from(t.adminUsers).where(and(eq(t.adminUsers.email, email), isNull(t.adminUsers.removedAt))))
    if (taken) throw new InvalidInput(`${email} can already sign in to the admin.`)
    yield* run(tx.update(t.adminInvites).set({ revokedAt: now }).where(and(eq(t.adminInvites.email, email), isNull(t.adminInvites.acceptedAt), isNull(t.adminInvites.revokedAt))))
    const row = (yield* get(
      tx.insert(t.adminInvites).values({ email, role, tokenHash: sha256(token), invitedBy: actor.id, expiresAt: now + INVITE_TTL_MS, createdAt: now }).returning({ id: t.adminInvites.id }),
    ))!
    yield* jobs.enqueueing(tx, t, 'mail.admin_invite', { inviteId: row.id, token }, { uniqueKey: `mail.admin_invite:${row.id}` })
    yield* audit.recording(tx, t, actor, 'staff.invite', `invite:${row.id}`, null, { email, role, expiresAt: now + INVITE_TTL_MS })
    return { inviteId: row.id, token }
  })
}

export async function revokeInvite(actor: audit.Actor, inviteId: number, now = Date.now()): Promise<void> {
  await audit.changing(actor, 'staff.invite_revoke', `invite:${inviteId}`, function* (tx, { adminInvites }) {
    const row = yield* get(
      tx
        .update(adminInvites)
        .set({ revokedAt: now })
        .where(and(eq(adminInvites.id, inviteId), isNull(adminInvites.acceptedAt), isNull(adminInvites.revokedAt)))
        .returning({ email: adminInvites.email }),
    )
    if (!row) throw new InvalidInput('That invitation was already used or withdrawn.')
    return { before: { email: row.email, pending: true }, after: { pending: false }, result: undefined }
  })
}

/** A pending, unexpired invitation by its link's token, or null. */
export async function findInvite(token: string, now = Date.now()): Promise<PendingInvite | null> {
  if (!token || token.length > 100) return null
  return (await read((db, t) => get(db.select(inviteColumns(t)).from(t.adminInvites).where(and(eq(t.adminInvites.tokenHash, sha256(token)), isStanding(t, now)))))) ?? null
}

/** The same, by id: the mail job sends only while the invitation still stands. */
export async function isPending(inviteId: number, now = Date.now()): Promise<PendingInvite | null> {
  return (await read((db, t) => get(db.select(inviteColumns(t)).from(t.adminInvites).where(and(eq(t.adminInvites.id, inviteId), isStanding(t, now)))))) ?? null
}

export const INVITE_INVALID = 'This invitation link is no longer valid: it was used, withdrawn or has expired. Ask the owner for a new one.'

/**
 * Accepts an invitation: sets the person's password and gives them the invited role. The
 * invitation is claimed by one conditional UPDATE, so a link works exactly once even when
 * two tabs submit together. A removed person invited again comes back under the same id.
 */
export async function acceptInvite(token: string, password: string, now = Date.now()): Promise<{ id: number; email: string }> {
  if (password.length < adminAuth.MIN_PASSWORD) throw new InvalidInput(`The password must be at least ${adminAuth.MIN_PASSWORD} characters.`)
  if (password.length > 500) throw new InvalidInput('The password is too long.')
  if (!(await findInvite(token, now))) throw new NotFound('This invitation')
  const passwordHash = await adminAuth.hashPassword(password)
  return transaction(function* (tx, t) {
    // the claim is the rule: of two submits of one link, on one app server or two, one updates the row
    const claimed = yield* get(
      tx
        .update(t.adminInvites)
        .set({ acceptedAt: now })
        .where(and(eq(t.adminInvites.tokenHash, sha256(token)), isStanding(t, now)))
        .returning({ id: t.adminInvites.id, email: t.adminInvites.email, role: t.adminInvites.role }),
    )
    if (!claimed) throw new NotFound('This invitation')
    const user = yield* get(
      tx
        .insert(t.adminUsers)
        .values({ email: claimed.email, passwordHash, role: claimed.role, createdAt: now })
        .onConflictDoUpdate({ target: t.adminUsers.email, set: { passwordHash, role: claimed.role, removedAt: null }, setWhere: sql`${t.adminUsers.removedAt} IS NOT NULL` })
        .returning({ id: t.adminUsers.id, email: t.adminUsers.email }),
    )
    if (!user) throw new InvalidInput(`${claimed.email} can already sign in to the admin.`)
    yield* audit.recording(tx, t, user, 'staff.join', `admin:${user.id}`, null, { inviteId: claimed.id, role: claimed.role })
    return user
  })
}

// Two owners removing or demoting each other at once must leave one: isNotLastOwner counts
// committed rows, and on PostgreSQL two transactions would each see the other owner still
// there. Every change that can take an owner away takes this turn first, so the second one
// counts the first.
const OWNERS = 'staff.owners'

/** The person is not an owner, or not the last one: removing or demoting them leaves the shop an owner. */
function isNotLastOwner(adminUsers: Tables['adminUsers']) {
  return sql`(${adminUsers.role} <> 'owner' OR (SELECT count(*) FROM admin_users WHERE role = 'owner' AND removed_at IS NULL) > 1)`
}

/**
 * Makes a person an owner or staff. Their next request already has the new role (it is read
 * on every request). An owner cannot change their own role, and the last owner cannot be
 * made staff.
 */
export async function setRole(actor: adminAuth.Admin, userId: number, roleRaw: string): Promise<void> {
  const role = parseRole(roleRaw)
  if (userId === actor.id) throw new InvalidInput('You cannot change your own role.')
  await audit.changing(actor, 'staff.role', `admin:${userId}`, function* (tx, { adminUsers }) {
    yield* serialize(OWNERS)
    const person = yield* get(tx.select({ email: adminUsers.email, role: adminUsers.role }).from(adminUsers).where(and(eq(adminUsers.id, userId), isNull(adminUsers.removedAt))))
    if (!person) throw new InvalidInput('That person was removed, or does not exist.')
    if (person.role === role) throw new InvalidInput(`${person.email} is already ${role === 'owner' ? 'an owner' : 'staff'}.`)
    const { changes } = yield* run(
      tx
        .update(adminUsers)
        .set({ role })
        .where(and(eq(adminUsers.id, userId), isNull(adminUsers.removedAt), ne(adminUsers.role, role), isNotLastOwner(adminUsers))),
    )
    if (changes === 0) throw new InvalidInput(`${person.email} is the last owner: make someone else an owner first.`)
    return { before: { email: person.email, role: person.role }, after: { role }, result: undefined }
  })
}

/**
 * Removes a person from the admin: they can no longer sign in and every session of theirs
 * ends in the same transaction, so their next request (even one already on its way) is
 * refused. The password is overwritten as well, so a release that predates removal (during a
 * deploy) refuses them too. The last owner cannot be removed, nor can anyone remove themselves.
 */
export async function remove(actor: adminAuth.Admin, userId: number, now = Date.now()): Promise<void> {
  if (userId === actor.id) throw new InvalidInput('You cannot remove yourself.')
  await audit.changing(actor, 'staff.remove', `admin:${userId}`, function* (tx, { adminUsers, adminSessions }) {
    yield* serialize(OWNERS)
    const row = yield* get(
      tx
        .update(adminUsers)
        .set({ removedAt: now, passwordHash: REMOVED_PASSWORD })
        .where(
          and(
            eq(adminUsers.id, userId),
            isNull(adminUsers.removedAt),
            isNotLastOwner(adminUsers),
          ),
        )
        .returning({ email: adminUsers.email, role: adminUsers.role }),
    )
    if (!row) throw new InvalidInput('That person was already removed, or is the last owner.')
    const { changes: ended } = yield* run(tx.delete(adminSessions).where(eq(adminSessions.userId, userId)))
    return { before: { email: row.email, role: row.role }, after: { removed: true, sessionsEnded: ended }, result: undefined }
  })
}
