import type { Flash } from '@/lib/request/flash'

// A redirect's message, read (and its signature checked) by lib/request/flash.ts on the server.
export type { Flash }

export function FlashMessage({ flash, children }: { flash: Flash; children?: React.ReactNode }) {
  const tone = flash.kind === 'error' ? 'border-red-200 bg-red-50 text-red-900' : 'border-emerald-200 bg-emerald-50 text-emerald-950'
  return (
    <div className={`flex flex-wrap items-center gap-x-3 gap-y-1 rounded-xl border px-4 py-3 text-sm ${tone}`} data-testid={flash.kind === 'error' ? 'flash-error' : 'flash-notice'}>
      <p className="font-medium">{flash.text}</p>
      {children}
    </div>
  )
}
