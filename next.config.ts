import type { NextConfig } from 'next'
import { FLASH_QUERY_KEYS } from './server/contract'

// Security headers on every response. The CSP allows inline styles and scripts because
// Next's streaming runtime injects inline <script> tags; everything else is same-origin.
const securityHeaders = [
  { key: 'X-Content-Type-Options', value: 'nosniff' },
  { key: 'X-Frame-Options', value: 'DENY' },
  { key: 'Referrer-Policy', value: 'strict-origin-when-cross-origin' },
  { key: 'Permissions-Policy', value: 'camera=(), microphone=(), geolocation=()' },
  { key: 'Cross-Origin-Opener-Policy', value: 'same-origin' },
  {
    key: 'Content-Security-Policy',
    value: [
      "default-src 'self'",
      "img-src 'self' data: blob:",
      "style-src 'self' 'unsafe-inline'",
      "script-src 'self' 'unsafe-inline'",
      "frame-ancestors 'none'",
      "base-uri 'self'",
      // Stripe Checkout is a redirect, so the form may post to our origin only; the
      // redirect to checkout.stripe.com is a 303, not a form target.
      "form-action 'self'",
    ].join('; '),
  },
]

// Uploaded files are documents in their own right (an SVG can carry script): they get a
// policy that allows nothing and sandboxes them, instead of the pages' policy. A later
// header rule would overwrite the route's own header, so the two rules never overlap.
const uploadsPolicy = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
const pageHeaders = securityHeaders
const uploadHeaders = [...securityHeaders.filter((h) => h.key !== 'Content-Security-Policy'), { key: 'Content-Security-Policy', value: uploadsPolicy }]

const nextConfig: NextConfig = {
  output: 'standalone',
  poweredByHeader: false,
  serverExternalPackages: ['better-sqlite3'],
  experimental: {
    // Rendered pages stay in this process's memory, never in the build folder on disk: a
    // build folder is shared by every process started from it (tests start many, each with
    // its own STORAGE_DIR and APP_URL), and a page rendered from one database must not be
    // served from another. Each process renders a page once, on its first visit.
    isrFlushToDisk: false,
    // proxy.ts refuses bodies over 1 MB by counting the copy Next gives it; Next copies at
    // most this much, so a huge chunked body is never held in memory, and anything cut
    // short here is still over the proxy's limit.
    proxyClientMaxBodySize: '1100kb',
  },
  // Migrations (both engines') and the demo's pictures are read from disk at boot; file tracing cannot see
  // them, so include them.
  outputFileTracingIncludes: { '/**': ['./db/migrations/**/*', './db/pg/migrations/**/*', './demo/pictures/**/*'] },
  // A file read at a path known only at run time makes the tracer copy the whole project into
  // .next/standalone (such calls carry /*turbopackIgnore: true*/). The storage folder must
  // never be copied: on a machine that has run the store it holds the live database, its WAL
  // and the backups, and a build would copy them (and ship them in an image). Tests,
  // benchmarks and docs are not part of the server either. scripts/postbuild.mjs checks.
  outputFileTracingExcludes: { '/**': ['./storage/**/*', './tests/**/*', './bench/**/*', './docs/**/*', './test-results/**/*', './playwright-report/**/*', '**/*.sqlite3', '**/*.sqlite3-wal', '**/*.sqlite3-shm'] },
  // Product pages are static per (slug, variant): a plain product URL, with or without
  // ?variant=ID, is served by /products/[slug]/[variant] from Next's cache. Only a
  // no-JavaScript form post coming back with ?notice= or ?error= renders per request.
  async rewrites() {
    const noFlash = FLASH_QUERY_KEYS.map((key) => ({ type: 'query' as const, key }))
    return {
      beforeFiles: [
        { source: '/products/:slug', has: [{ type: 'query' as const, key: 'variant', value: '(?<variant>\\d{1,10})' }], missing: noFlash, destination: '/products/:slug/:variant' },
        { source: '/products/:slug', missing: [...noFlash, { type: 'query' as const, key: 'variant' }], destination: '/products/:slug/default' },
      ],
      afterFiles: [],
      fallback: [],
    }
  },
  async headers() {
    return [
      { source: '/((?!uploads/).*)', headers: pageHeaders },
      { source: '/uploads/:path*', headers: uploadHeaders },
    ]
  },
}

export default nextConfig
