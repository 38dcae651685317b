import type { ProductDetail, ProductVariant } from './catalog'

// The product page's variant picker, as a view: which variant the page shows and where each
// option value leads. Pure, and free of the server-only catalog queries, so the picker's
// client component uses the same names (optionParam) as the page that renders it.

/**
 * The variant a product page shows: the one asked for in ?variant= when it belongs to the
 * product, else the first one that can be sold, else the first.
 */
export function selectVariant(product: Pick<ProductDetail, 'variants'>, requestedId: number | null, available: Record<number, number>): ProductVariant | null {
  const requested = requestedId === null ? undefined : product.variants.find((v) => v.id === requestedId)
  return requested ?? product.variants.find((v) => (available[v.id] ?? 0) > 0) ?? product.variants[0] ?? null
}

export type OptionChoice = { value: string; variantId: number; isSelected: boolean; isAvailable: boolean; isExactMatch: boolean }

/**
 * For each option value, the variant a click should lead to: the selected variant with
 * that one option changed when such a variant exists (isExactMatch), else the first
 * variant with that value, preferring one that can be sold.
 */
export function optionChoices(product: Pick<ProductDetail, 'variants' | 'options'>, selected: ProductVariant, available: Record<number, number>): { name: string; choices: OptionChoice[] }[] {
  return product.options.map((option) => ({
    name: option.name,
    choices: option.values.map((value) => {
      const wanted = { ...selected.options, [option.name]: value }
      const exact = product.variants.find((v) => sameOptions(v.options, wanted))
      const withValue = product.variants.filter((v) => v.options[option.name] === value)
      const target = exact ?? withValue.find((v) => (available[v.id] ?? 0) > 0) ?? withValue[0]!
      return {
        value,
        variantId: target.id,
        isSelected: selected.options[option.name] === value,
        isAvailable: (available[target.id] ?? 0) > 0,
        isExactMatch: exact !== undefined,
      }
    }),
  }))
}

function sameOptions(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(b)
  return keys.length === Object.keys(a).length && keys.every((k) => a[k] === b[k])
}

/** Query-string key for an option: "Size" -> "size". */
export function optionParam(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '-')
}
