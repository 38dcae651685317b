import * as accounts from '@/lib/accounts'

// The signed-in shopper's data as a JSON download. Personal: never stored by any cache.
export async function GET(): Promise<Response> {
  const account = await accounts.current()
  if (!account) return new Response('Sign in to download your data.\n', { status: 401, headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'private, no-store' } })
  const body = JSON.stringify(await accounts.exportData(account), null, 2)
  return new Response(body, {
    headers: {
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Disposition': 'attachment; filename="my-data.json"',
      'Cache-Control': 'private, no-store',
    },
  })
}
