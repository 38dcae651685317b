import 'server-only'
import { navigation } from './catalog'
import { getEnv, isBuildPhase } from './env'

// What pages say about the shop to people and to machines: the store's name, its canonical
// origin, descriptions, and schema.org JSON-LD.

export type Site = {
  name: string
  url: string
  description: string
  /** payments run on the built-in emulator: every page says so */
  isTestMode: boolean
  shippingRates: { name: string; amountCents: number; minDays: number; maxDays: number }[]
  currency: string
  /** what the prices include, said only as far as it is true (decision 021) */
  priceNote: string
}

const DESCRIPTION = 'Outdoor and everyday goods, made to last: outerwear, knitwear, tops, accessories and things for home and camp.'

/**
 * The shop's settings, read from the environment at request time. `next build` renders
 * the static 404 page without an environment (and must not need one), so it gets neutral
 * defaults instead.
 */
export function site(): Site {
  if (isBuildPhase()) return { name: 'Till', url: 'http://localhost:3000', description: DESCRIPTION, isTestMode: false, shippingRates: [], currency: 'usd', priceNote: '' }
  const env = getEnv()
  return {
    name: env.storeName,
    url: env.appUrl,
    description: DESCRIPTION,
    isTestMode: env.payments === 'emulator',
    shippingRates: env.shippingRates,
    currency: env.currency,
    priceNote: priceNote(env),
  }
}

/**
 * Without Stripe Tax no tax is charged, so the prices are all there is but shipping; with it,
 * tax is either inside the prices or added at checkout, and the footer says which.
 */
function priceNote(env: ReturnType<typeof getEnv>): string {
  if (!env.isStripeTaxEnabled) return 'Prices include everything but shipping, which you choose at checkout.'
  if (env.stripeTaxBehavior === 'inclusive') return 'Prices include tax; shipping is chosen at checkout.'
  return 'Tax is calculated at checkout, with shipping.'
}

/** What every page's header and footer show: the store, its test mode and its collections. */
export type SiteShell = { storeName: string; description: string; isTestMode: boolean; priceNote: string; collections: { slug: string; title: string }[] }

/**
 * The shell as of now, or null while `next build` prerenders the static 404: there is no
 * database and no configuration then, and that page must stay static (a request-time 404
 * turns every ISR page into a 500), so it fetches the shell in the browser instead.
 */
export async function siteShell(): Promise<SiteShell | null> {
  if (isBuildPhase()) return null
  const s = site()
  return { storeName: s.name, description: s.description, isTestMode: s.isTestMode, priceNote: s.priceNote, collections: await navigation() }
}

export function absoluteUrl(pathname: string, base = site().url): string {
  return new URL(pathname, `${base}/`).toString()
}

/** One line of plain text for a meta description: collapsed whitespace, cut at a word. */
export function describe(text: string, max = 160): string {
  const plain = text.replace(/\s+/g, ' ').trim()
  if (plain.length <= max) return plain
  const cut = plain.slice(0, max - 1)
  const atWord = cut.slice(0, cut.lastIndexOf(' ') > max * 0.6 ? cut.lastIndexOf(' ') : cut.length)
  return `${atWord.replace(/[\s,.;:–—-]+$/, '')}…`
}

