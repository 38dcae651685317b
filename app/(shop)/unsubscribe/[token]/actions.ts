'use server'

import { redirect } from 'next/navigation'
import * as optOuts from '@/lib/mail-opt-outs'

export async function unsubscribe(formData: FormData): Promise<void> {
  const token = String(formData.get('token') ?? '')
  const done = await optOuts.optOut(token)
  redirect(done ? `/unsubscribe/${token}?done=1` : `/unsubscribe/${encodeURIComponent(token.slice(0, 64))}`)
}
