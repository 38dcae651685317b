// Thirty products, the size of a catalog page, as plain data.
const NAMES = ['Rain Jacket', 'Merino Beanie', 'Camp Mug', 'Wool Socks', 'Canvas Tote', 'Field Notebook']
const COLOURS = ['Navy', 'Moss', 'Rust', 'Stone', 'Black']

export const PRODUCTS = Array.from({ length: 30 }, (_, i) => ({
  slug: `product-${i + 1}`,
  title: `${COLOURS[i % COLOURS.length]} ${NAMES[i % NAMES.length]}`,
  priceCents: 1200 + ((i * 731) % 18000),
  description: 'Made to last, from honest materials, and easy to care for at home.',
}))

export function price(cents: number): string {
  return `$${(cents / 100).toFixed(2)}`
}
