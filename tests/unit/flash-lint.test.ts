import path from 'node:path'
import { ESLint } from 'eslint'
import { beforeAll, describe, expect, it } from 'vitest'

// Two rules in eslint.config.mjs, proved on fixtures: a message written into a URL by hand
// (the page would never show it: messages are signed by lib/request/flash.ts), and a client component
// importing the admin's server-only ui.tsx (the build would fail).

const root = path.resolve(import.meta.dirname, '../..')
const eslint = new ESLint({ cwd: root })

async function lint(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(root, filePath) })
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-syntax').map((m) => m.message)
}

const forbidden: { from: string; code: string; says: RegExp }[] = [
  { from: 'app/admin/(console)/x/actions.ts', code: "import { redirect } from 'next/navigation'\nexport function x(id: number) { redirect(`/admin/orders/${id}?notice=Saved`) }", says: /signed: use flash\.href/ },
  { from: 'app/admin/(console)/x/actions.ts', code: "import { redirect } from 'next/navigation'\nexport function x() { redirect('/admin/products?error=' + encodeURIComponent('No')) }", says: /signed: use flash\.href/ },
  { from: 'app/(shop)/x/actions.ts', code: "export function x(url: URL) { url.searchParams.set('error', 'No'); return url }", says: /not searchParams\.set/ },
  { from: 'lib/checkout.ts', code: "export const back = (path: string) => `${path}&notice=ok`", says: /signed/ },
  { from: 'app/admin/(console)/x/form.tsx', code: "'use client'\nimport { Field } from '../../_components/ui'\nexport const x = Field", says: /ui\.tsx is server-only/ },
  { from: 'app/admin/(console)/x/form.tsx', code: "'use client'\nimport { Field } from '@/app/admin/_components/ui'\nexport const x = Field", says: /ui\.tsx is server-only/ },
]

const allowed: { from: string; code: string }[] = [
  { from: 'lib/request/flash.ts', code: "export const href = (url: string, kind: string, text: string) => `${url}?${kind}=${text}`" },
  { from: 'app/admin/(console)/x/page.tsx', code: "import { Field } from '../../_components/ui'\nexport const x = Field" },
  { from: 'app/admin/(console)/x/form.tsx', code: "'use client'\nimport { input } from '../../_components/styles'\nexport const x = input" },
  { from: 'app/(shop)/x/page.tsx', code: "export const x = (q: URLSearchParams) => q.get('error') ?? q.get('notice')" },
]

describe('flash and client-import rules (eslint no-restricted-syntax)', () => {
  beforeAll(() => lint('lib/x.ts', 'export {}'), 120_000)

  it.each(forbidden)('refuses in $from: $code', async ({ from, code, says }) => {
    const messages = await lint(from, code)
    expect(messages.length, `no message for ${from}`).toBeGreaterThan(0)
    expect(messages.join('\n')).toMatch(says)
  })

  it.each(allowed)('accepts in $from: $code', async ({ from, code }) => {
    expect(await lint(from, code)).toEqual([])
  })
})
