import * as catalog from '@/lib/catalog'
import { formatMoney } from '@/lib/money'

export const dynamic = 'force-dynamic'

export default function HomePage() {
  const products = catalog.listProducts({ sort: 'newest', perPage: 48 }).items
  return (
    <main className="mx-auto max-w-6xl px-4 py-10">
      <h1 className="mb-8 text-3xl font-semibold tracking-tight">Shop everything</h1>
      <ul className="grid grid-cols-2 gap-6 md:grid-cols-4" data-testid="product-grid">
        {products.map((p) => (
          <li key={p.id} className="group">
            {p.imagePath ? (
              // eslint-disable-next-line @next/next/no-img-element
              <img src={`/uploads/${p.imagePath}`} alt={p.imageAlt} width={400} height={400} className="aspect-square w-full rounded-lg bg-stone-200 object-cover" />
            ) : null}
            <h2 className="mt-2 text-sm font-medium">{p.title}</h2>
            <p className="text-sm text-stone-600">{formatMoney(p.minPriceCents, p.currency)}</p>
          </li>
        ))}
      </ul>
    </main>
  )
}
