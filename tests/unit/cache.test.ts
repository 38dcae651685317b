import { describe, expect, it } from 'vitest'
import { POST } from '@/app/api/cache/route'
import * as cache from '@/lib/cache'

// The loopback revalidation's door: only this process's own token opens it. What stock and
// catalog changes tell the cache runs on both engines in tests/integration/cache.test.ts.

describe('cache: the loopback revalidation', () => {
  it('POST /api/cache answers 404 to anyone without the process token', async () => {
    const ask = (headers: Record<string, string>) =>
      POST(new Request('http://localhost/api/cache', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ tags: ['catalog'] }) }))
    expect((await ask({})).status).toBe(404)
    expect((await ask({ [cache.revalidateTokenHeader]: 'guess' })).status).toBe(404)
    expect((await ask({ [cache.revalidateTokenHeader]: 'x'.repeat(48) })).status).toBe(404)
  })
})
