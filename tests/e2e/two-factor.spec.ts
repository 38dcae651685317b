import { expect, test, type Page } from '@playwright/test'
import * as OTPAuth from 'otpauth'
import { npmRun } from '../support/npm-run'
import { databaseOf, TEST_ADMIN } from '../support/server'
import { storeRows } from '../support/store-file'
import { ownServer } from './fixtures'

// Two-factor sign-in in Chromium against the production build: the owner enrols by QR code
// (the key beside it, as an app would read it), signs in with a code from the app and then
// with a recovery code, and the operator turns it off from the server for a lost phone. Its
// own server, since the owner's sign-in changes on the way.

const ownedServer = ownServer()

const codeAt = (secret: string, at: number) => OTPAuth.TOTP.generate({ secret: OTPAuth.Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30, timestamp: at })

async function password(page: Page) {
  await page.goto(`${ownedServer().url}/admin/sign-in`)
  await page.getByLabel('Email').fill(TEST_ADMIN.email)
  await page.getByLabel('Password').fill(TEST_ADMIN.password)
  await page.getByRole('button', { name: 'Sign in' }).click()
}

async function signOut(page: Page) {
  await page.getByRole('button', { name: 'Sign out' }).click()
  await expect(page).toHaveURL(/\/admin\/sign-in\?notice=Signed/)
}

test('the owner enrols TOTP by QR code, signs in with a code and with a recovery code, and the server resets it', async ({ page }) => {
  test.setTimeout(180_000)
  await password(page)
  await expect(page).toHaveURL(/\/admin$/)
  await page.goto(`${ownedServer().url}/admin/account`)
  await expect(page.getByTestId('two-factor-status')).toHaveAttribute('data-enabled', 'false')
  await page.getByRole('button', { name: 'Set up two-factor sign-in' }).click()
  await expect(page.getByRole('img', { name: /QR code/ }).locator('svg')).toBeVisible()
  const secret = (await page.getByTestId('totp-secret').textContent())!.trim()
  expect(secret).toMatch(/^[A-Z2-7]{32}$/)

  // a wrong code is refused and stays typed; the right one turns it on and shows ten codes once
  const confirm = page.getByTestId('two-factor-confirm')
  await confirm.getByLabel(/Six-digit code/).fill('000000')
  await confirm.getByRole('button', { name: 'Turn on two-factor sign-in' }).click()
  await expect(confirm.getByTestId('field-error')).toContainText('That code is not right')
  await expect(confirm.getByLabel(/Six-digit code/)).toHaveValue('000000')
  const enrolledAt = Date.now()
  await confirm.getByLabel(/Six-digit code/).fill(codeAt(secret, enrolledAt))
  await confirm.getByRole('button', { name: 'Turn on two-factor sign-in' }).click()
  const list = page.getByTestId('recovery-codes').getByRole('listitem')
  await expect(list).toHaveCount(10)
  const codes = await list.allTextContents()
  const db = storeRows(ownedServer().storageDir)
  expect(await db.get('SELECT count(*) AS n FROM admin_recovery_codes WHERE used_at IS NULL')).toEqual({ n: 10 })
  const hashes = (await db.all<{ h: string }>('SELECT code_hash AS h FROM admin_recovery_codes')).map((r) => r.h).join()
  for (const code of codes) expect(hashes).not.toContain(code.replace(/-/g, ''))
  await page.getByRole('link', { name: 'I have saved them' }).click()
  await expect(page.getByTestId('two-factor-status')).toHaveAttribute('data-enabled', 'true')
  await expect(page.getByTestId('two-factor-status')).toContainText('10 of 10 recovery codes left')
  await signOut(page)

  // the password alone leads to the code page, not the admin
  await password(page)
  await expect(page).toHaveURL(/\/admin\/sign-in\/verify$/)
  expect((await page.context().cookies()).some((c) => c.name === 'till_admin')).toBe(false)
  await page.goto(`${ownedServer().url}/admin`)
  await expect(page).toHaveURL(/\/admin\/sign-in/)
  await password(page)
  // the code of the next 30-second step (the enrolment spent the current one)
  await page.getByLabel(/Code from your app/).fill(codeAt(secret, Math.max(Date.now(), enrolledAt + 30_000)))
  await page.getByRole('button', { name: 'Verify' }).click()
  await expect(page).toHaveURL(/\/admin$/)
  await expect(page.getByRole('heading', { name: 'Dashboard' })).toBeVisible()
  await signOut(page)

  // with a recovery code: a wrong one first, kept as typed; then one of the ten, which is spent
  await password(page)
  await page.getByLabel(/Code from your app/).fill('aaaa-bbbb-cccc-dddd')
  await page.getByRole('button', { name: 'Verify' }).click()
  await expect(page.getByTestId('verify-form').getByTestId('field-error')).toContainText('tries left')
  await expect(page.getByLabel(/Code from your app/)).toHaveValue('aaaa-bbbb-cccc-dddd')
  await page.getByLabel(/Code from your app/).fill(codes[0]!)
  await page.getByRole('button', { name: 'Verify' }).click()
  await expect(page).toHaveURL(/\/admin\/account\?notice=/)
  await expect(page.getByTestId('flash-notice')).toContainText('Signed in with a recovery code; 9 left')
  await expect(page.getByTestId('two-factor-status')).toContainText('9 of 10 recovery codes left')
  expect(await db.get(`SELECT admin_email AS e FROM audit_log WHERE action = 'admin.recovery_code_used'`)).toEqual({ e: TEST_ADMIN.email })

  // the phone and the codes are lost: the operator resets it from the server, which signs out
  // as an operator runs it beside the store: on the store's own database, whichever engine it is
  const database = databaseOf(ownedServer().storageDir)
  const reset = await npmRun('admin:reset-2fa', [TEST_ADMIN.email], { PAYMENTS: 'emulator', STORAGE_DIR: ownedServer().storageDir, APP_URL: ownedServer().url, ...(database ? { DATABASE_URL: database } : {}) })
  expect(reset.code, reset.stderr).toBe(0)
  expect(reset.stdout).toContain(`two-factor sign-in is off for ${TEST_ADMIN.email}`)
  await page.goto(`${ownedServer().url}/admin/account`)
  await expect(page).toHaveURL(/\/admin\/sign-in/)
  await password(page)
  await expect(page).toHaveURL(/\/admin$/)
  await db.close()
})
