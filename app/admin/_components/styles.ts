// The admin's class names, shared by server pages and the client form fields.

export const input = 'mt-1 block w-full rounded-lg border border-stone-400 bg-white px-3 py-2 text-sm text-stone-900 focus:border-stone-900 focus:outline-none focus:ring-2 focus:ring-stone-900/20'
export const label = 'block text-sm font-medium text-stone-800'
export const card = 'min-w-0 rounded-2xl border border-stone-200 bg-white p-4 shadow-sm sm:p-6'
// the table's own rules (cards on a phone) are `.data-cards` in globals.css
export const table = 'data-cards'
export const th = 'border-b border-stone-200 px-3 py-2 font-semibold text-stone-700'
export const td = 'border-b border-stone-100 px-3 py-2 align-top'
export const buttonSmall = 'inline-flex items-center justify-center rounded-full border border-stone-400 bg-white px-3 py-1.5 text-xs font-semibold text-stone-900 hover:border-stone-900'
export const buttonDark = 'inline-flex items-center justify-center rounded-full bg-stone-900 px-5 py-2.5 text-sm font-semibold text-white hover:bg-stone-700'
export const badge = 'inline-block rounded-full px-2 py-0.5 text-xs font-semibold'
