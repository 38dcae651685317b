import 'server-only'
import { redirect } from 'next/navigation'
import * as flash from '@/lib/request/flash'

// Post/redirect/get for admin forms: the answer is a 303 back to a page with the message in
// ?notice= or ?error=, signed (lib/request/flash.ts), which the page shows (see ui.tsx Flash).

const withParam = flash.href

export function fail(back: string, message: string): never {
  redirect(withParam(back, 'error', message))
}

export function done(back: string, message: string): never {
  redirect(withParam(back, 'notice', message))
}
