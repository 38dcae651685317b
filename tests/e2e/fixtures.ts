import { test as base, expect } from '@playwright/test'
import { startServer, type ServerHandle } from '../support/server'

// One production server per worker, on a free port with a fresh STORAGE_DIR, seeded with
// the demo catalog and the payments emulator. Tests may restart it.
export const test = base.extend<object, { server: ServerHandle }>({
  server: [
    async ({}, use) => {
      const server = await startServer()
      await use(server)
      await server.stop()
    },
    { scope: 'worker', timeout: 120_000 },
  ],
  baseURL: async ({ server }, use) => {
    await use(server.url)
  },
})

export { expect }

/** Waits until React has hydrated the element with this test id (its handlers are attached). */
export async function hydrated(page: import('@playwright/test').Page, testId: string): Promise<void> {
  await page.waitForFunction((id) => {
    const el = document.querySelector(`[data-testid="${id}"]`)
    return !!el && Object.keys(el).some((key) => key.startsWith('__reactFiber'))
  }, testId)
}

/**
 * A production server for this spec file alone (its own STORAGE_DIR), started before its
 * tests and stopped after: for specs that change what other specs read (the owner's sign-in,
 * the catalog). Call at the top of the file and write its tests with the plain Playwright test
 * (the shared server of this file's `test` is then never started); the function gives the
 * running server.
 */
export function ownServer(): () => ServerHandle {
  let server: ServerHandle | undefined
  base.beforeAll(async () => {
    base.setTimeout(120_000)
    server = await startServer()
  })
  base.afterAll(async () => {
    await server?.stop()
  })
  return () => server!
}
