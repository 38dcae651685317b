import 'server-only'
import { redirect } from 'next/navigation'

// Post/redirect/get for admin forms: the answer is a 303 back to a page with the message in
// ?notice= or ?error=, which the page shows (see ui.tsx Flash).

function withParam(back: string, key: 'notice' | 'error', message: string): string {
  const url = new URL(back, 'http://local')
  url.searchParams.delete('notice')
  url.searchParams.delete('error')
  url.searchParams.set(key, message.slice(0, 300))
  return `${url.pathname}${url.search}`
}

export function fail(back: string, message: string): never {
  redirect(withParam(back, 'error', message))
}

export function done(back: string, message: string): never {
  redirect(withParam(back, 'notice', message))
}
