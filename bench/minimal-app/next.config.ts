import type { NextConfig } from 'next'

// The bench's baseline: the least a Next 16 App Router app does for one page. Built by
// bench/lib/minimal-app.ts in a temporary folder, with a link to the store's node_modules.
const nextConfig: NextConfig = {
  poweredByHeader: false,
  // node_modules is a link to the store's folder elsewhere: let Turbopack follow it there.
  turbopack: { root: process.env.BENCH_MINIMAL_ROOT },
}

export default nextConfig
