import { PRODUCTS, price } from './products'

// Rendered at build time: the static baseline.
export default function Home() {
  return (
    <main>
      <h1>All products</h1>
      <ul>
        {PRODUCTS.map((p) => (
          <li key={p.slug}>
            <a href={`/products/${p.slug}`}>{p.title}</a>
            <p>{p.description}</p>
            <p>{price(p.priceCents)}</p>
          </li>
        ))}
      </ul>
    </main>
  )
}
