'use server'

import { revalidatePath } from 'next/cache'
import { z } from 'zod'
import { answered, refused, type FormState } from '../../_components/form-state'
import { done, fail } from '../../_components/redirect'
import { getEnv } from '@/lib/env'
import { InvalidInput } from '@/lib/errors'
import { parseMoney } from '@/lib/money'
import * as staff from '@/lib/staff'

// Staff management and the owner's rules for staff. Each action asks for its permission
// itself: the page being hidden from staff is no lock.

const Id = z.coerce.number().int().positive().max(2 ** 31)

export async function inviteAction(previous: FormState, formData: FormData): Promise<FormState> {
  const admin = await staff.requirePermission('staff')
  const email = String(formData.get('email') ?? '').slice(0, 1000)
  const role = String(formData.get('role') ?? '').slice(0, 20)
  try {
    await staff.invite(admin, email, role)
  } catch (err) {
    if (err instanceof InvalidInput) return refused(previous, formData, { '': err.message })
    throw err
  }
  revalidatePath('/admin/staff')
  return answered(previous, formData, `Invitation sent to ${email.trim().toLowerCase()}. The link works once, for 72 hours.`, { values: { role } })
}

export async function refundLimitAction(previous: FormState, formData: FormData): Promise<FormState> {
  const admin = await staff.requirePermission('settings')
  const limit = parseMoney(String(formData.get('limit') ?? '').slice(0, 1000), getEnv().currency, { what: 'The refund limit', allowZero: true })
  if (!limit.ok) return refused(previous, formData, { limit: `${limit.message} Enter 0 to let staff send no refunds.` })
  try {
    await staff.setRefundLimit(admin, limit.cents)
  } catch (err) {
    if (err instanceof InvalidInput) return refused(previous, formData, { limit: err.message })
    throw err
  }
  revalidatePath('/admin/staff')
  return answered(previous, formData, 'Refund limit saved.')
}

export async function removeMemberAction(formData: FormData): Promise<void> {
  const admin = await staff.requirePermission('staff')
  const id = Id.safeParse(formData.get('userId'))
  if (!id.success) fail('/admin/staff', 'That person does not exist.')
  try {
    await staff.remove(admin, id.data)
  } catch (err) {
    if (err instanceof InvalidInput) fail('/admin/staff', err.message)
    throw err
  }
  done('/admin/staff', 'Removed; their sessions have ended.')
}

export async function setRoleAction(formData: FormData): Promise<void> {
  const admin = await staff.requirePermission('staff')
  const id = Id.safeParse(formData.get('userId'))
  if (!id.success) fail('/admin/staff', 'That person does not exist.')
  const role = String(formData.get('role') ?? '').slice(0, 20)
  try {
    await staff.setRole(admin, id.data, role)
  } catch (err) {
    if (err instanceof InvalidInput) fail('/admin/staff', err.message)
    throw err
  }
  done('/admin/staff', role === 'owner' ? 'Now an owner: they can do everything you can.' : 'Now staff: orders, products and stock only.')
}

export async function revokeInviteAction(formData: FormData): Promise<void> {
  const admin = await staff.requirePermission('staff')
  const id = Id.safeParse(formData.get('inviteId'))
  if (!id.success) fail('/admin/staff', 'That invitation does not exist.')
  try {
    await staff.revokeInvite(admin, id.data)
  } catch (err) {
    if (err instanceof InvalidInput) fail('/admin/staff', err.message)
    throw err
  }
  done('/admin/staff', 'Invitation withdrawn; its link no longer works.')
}

export async function requireTwoFactorAction(formData: FormData): Promise<void> {
  const admin = await staff.requirePermission('settings')
  const required = formData.get('required') === 'on'
  try {
    await staff.setRequireTwoFactor(admin, required)
  } catch (err) {
    if (err instanceof InvalidInput) fail('/admin/staff', err.message)
    throw err
  }
  done('/admin/staff', required ? 'Two-factor sign-in is now required: anyone without it sets it up at their next click.' : 'Two-factor sign-in is no longer required.')
}
