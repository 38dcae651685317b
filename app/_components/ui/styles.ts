// Class lists shared by links and buttons that should look alike.

export const buttonPrimary =
  'inline-flex items-center justify-center gap-2 rounded-full bg-stone-900 px-6 py-3 text-sm font-semibold text-white transition hover:bg-stone-700 disabled:cursor-not-allowed disabled:bg-stone-300 disabled:text-stone-600'

export const buttonSecondary =
  'inline-flex items-center justify-center gap-2 rounded-full border border-stone-300 bg-white px-5 py-2.5 text-sm font-medium text-stone-900 transition hover:border-stone-900'

export const textLink = 'font-medium underline decoration-stone-300 underline-offset-4 hover:decoration-stone-900'

export const container = 'mx-auto w-full max-w-7xl px-4 sm:px-6 lg:px-8'
