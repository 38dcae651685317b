import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import nextConfig from '@/next.config'

// next.config.ts turns off experimental.isrFlushToDisk so a page rendered from one database
// is never written into the build folder that every process started from it shares. Next
// prints the option as "⨯ isrFlushToDisk" at every build; postbuild says what that means.
// If Next stops reading the option, it should go (and this fails to say so).

const next = path.resolve(__dirname, '..', '..', 'node_modules', 'next', 'dist', 'server')

describe('next.config.ts', () => {
  it('keeps rendered pages out of the build folder, with an option Next still reads', () => {
    expect(nextConfig.experimental?.isrFlushToDisk).toBe(false)
    // the server and the route modules pass it to the incremental cache as flushToDisk
    expect(fs.readFileSync(path.join(next, 'next-server.js'), 'utf8')).toMatch(/flushToDisk: [^,\n]*nextConfig\.experimental\.isrFlushToDisk/)
    expect(fs.readFileSync(path.join(next, 'route-modules', 'route-module.js'), 'utf8')).toMatch(/flushToDisk: [^,\n]*nextConfig\.experimental\.isrFlushToDisk/)
  })

  it('has the build explain the ⨯ Next prints for it', () => {
    const postbuild = fs.readFileSync(path.resolve(__dirname, '..', '..', 'scripts', 'postbuild.mjs'), 'utf8')
    expect(postbuild).toContain('"⨯ isrFlushToDisk" above is not an error')
  })
})
