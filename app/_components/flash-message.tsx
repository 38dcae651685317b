export type Flash = { kind: 'error' | 'notice'; text: string }

/** `?error=` / `?notice=` from a redirect, cut to a sane length (React escapes the text). */
export function flashFrom(params: Record<string, string | string[] | undefined>): Flash | null {
  const pick = (key: string) => {
    const v = params[key]
    const s = (Array.isArray(v) ? v[0] : v)?.replace(/\s+/g, ' ').trim()
    return s ? s.slice(0, 300) : null
  }
  const error = pick('error')
  if (error) return { kind: 'error', text: error }
  const notice = pick('notice')
  return notice ? { kind: 'notice', text: notice } : null
}

export function FlashMessage({ flash, children }: { flash: Flash; children?: React.ReactNode }) {
  const tone = flash.kind === 'error' ? 'border-red-200 bg-red-50 text-red-900' : 'border-emerald-200 bg-emerald-50 text-emerald-950'
  return (
    <div className={`flex flex-wrap items-center gap-x-3 gap-y-1 rounded-xl border px-4 py-3 text-sm ${tone}`} data-testid={flash.kind === 'error' ? 'flash-error' : 'flash-notice'}>
      <p className="font-medium">{flash.text}</p>
      {children}
    </div>
  )
}
