import { siteShell } from '@/lib/seo'

export const dynamic = 'force-dynamic'

// The header and footer's data for the one page that cannot render them on the server: the
// static 404, prerendered at build time (see app/_components/site-shell.tsx).
export async function GET() {
  const shell = await siteShell()
  return Response.json(shell, { headers: { 'Cache-Control': 'public, max-age=60' } })
}
