import { renderToStaticMarkup } from 'react-dom/server'
import { describe, expect, it } from 'vitest'
import { UploadImage } from '@/app/_components/ui/upload-image'

// The picture component offers an uploaded JPEG's smaller copies in srcset with the sizes it is
// shown at. Uploading and the copies themselves are tested on both engines in
// tests/integration/product-images.test.ts.

describe('product pictures', () => {
  it('the picture component lists the copies in srcset with its sizes; SVG and PNG pictures have none', () => {
    const rel = `products/${'a'.repeat(32)}.jpg`
    const html = renderToStaticMarkup(UploadImage({ path: rel, alt: 'Coat', sizes: '(min-width: 1024px) 25vw, 50vw' }))
    expect(html).toContain(`srcSet="/uploads/products/${'a'.repeat(32)}-320w.jpg 320w, /uploads/products/${'a'.repeat(32)}-640w.jpg 640w`)
    expect(html).toContain(`/uploads/${rel} 2000w"`)
    expect(html).toContain('sizes="(min-width: 1024px) 25vw, 50vw"')
    for (const other of ['products/harbor-rain-jacket-1.svg', `products/${'b'.repeat(32)}.png`]) {
      expect(renderToStaticMarkup(UploadImage({ path: other, alt: '' }))).not.toContain('srcSet')
    }
  })
})
