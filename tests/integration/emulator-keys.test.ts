import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startServer, type ServerHandle } from '../support/server'

// The demo's built-in emulator answers only to this storage folder's own random keys: the
// key that used to be fixed and published opens nothing, neither the API's listings (emails,
// addresses) nor the test controls that mark sessions paid.

let server: ServerHandle
beforeAll(async () => {
  server = await startServer({ env: { JOBS: 'off' } })
})
afterAll(() => server.stop())

const bearer = (key: string) => ({ authorization: `Bearer ${key}` })

describe('built-in emulator keys', () => {
  it('refuses the old public key and any guess; accepts the folder’s own key', async () => {
    const own = JSON.parse(fs.readFileSync(path.join(server.storageDir, 'emulator-keys.json'), 'utf8')) as { secretKey: string }
    for (const key of ['sk_test_till_emulator', 'sk_test_', 'sk_live_x']) {
      const list = await fetch(`${server.url}/v1/checkout/sessions`, { headers: bearer(key) })
      expect(list.status).toBe(401)
      expect(await list.text()).not.toContain('cs_')
      const control = await fetch(`${server.url}/emulator/test/advance-clock`, { method: 'POST', headers: { ...bearer(key), 'content-type': 'application/json' }, body: '{"seconds":1}' })
      expect(control.status).toBe(401)
    }
    const anonymous = await fetch(`${server.url}/v1/checkout/sessions`)
    expect(anonymous.status).toBe(401)
    const ok = await fetch(`${server.url}/v1/checkout/sessions`, { headers: bearer(own.secretKey) })
    expect(ok.status).toBe(200)
    expect(((await ok.json()) as { object: string }).object).toBe('list')
  })
})
