// Postal addresses as people in each country write them. Pure and free of server imports,
// so pages, emails and client components can all use it.

export type PostalAddress = {
  name?: string | null
  line1?: string | null
  line2?: string | null
  city?: string | null
  state?: string | null
  postalCode?: string | null
  /** ISO 3166-1 alpha-2, as Stripe gives it */
  country?: string | null
}

const regionNames = (() => {
  try {
    return new Intl.DisplayNames(['en'], { type: 'region' })
  } catch {
    return null
  }
})()

/** "US" -> "United States"; an unknown or malformed code comes back as given. */
export function countryName(code: string | null | undefined): string {
  const value = (code ?? '').trim()
  if (!/^[A-Za-z]{2}$/.test(value)) return value
  try {
    return regionNames?.of(value.toUpperCase()) ?? value.toUpperCase()
  } catch {
    return value.toUpperCase()
  }
}

const join = (parts: (string | null | undefined)[], separator = ' ') =>
  parts
    .map((p) => p?.trim())
    .filter(Boolean)
    .join(separator)

/**
 * The locality lines (city, region, postal code) in the order the country's post expects:
 * - US, AU: "San Francisco, CA 94105" / "Sydney NSW 2000"
 * - CA: "Toronto ON  M5V 2T6" (Canada Post puts two spaces before the code)
 * - GB: town, then the postcode on its own line
 * - DE, FR, NL and most of Europe: "10115 Berlin"
 */
function localityLines(a: PostalAddress, country: string): string[] {
  const city = a.city?.trim() || null
  const state = a.state?.trim() || null
  const postal = a.postalCode?.trim() || null
  switch (country) {
    case 'US':
      return [join([join([city, join([state, postal])], ', ')])]
    case 'AU':
      return [join([city, state, postal])]
    case 'CA':
      return [join([join([city, state]), postal], '  ')]
    case 'GB':
      return [join([city]), join([state]), join([postal])]
    default:
      return [join([postal, city]), join([state])]
  }
}

/** The address as lines to print, from the name down to the country's name. */
export function formatAddress(address: PostalAddress): string[] {
  const country = (address.country ?? '').trim().toUpperCase()
  return [join([address.name]), join([address.line1]), join([address.line2]), ...localityLines(address, country), countryName(country)].filter(Boolean)
}
