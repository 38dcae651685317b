'use client'

import { useEffect, useRef, useState } from 'react'
import { UploadImage } from '@/app/_components/ui/upload-image'
import type { ProductImage } from '@/lib/catalog'

/**
 * A swipeable strip of pictures (CSS scroll snap) with thumbnails. The thumbnails are
 * links to each picture's anchor, so they work without JavaScript; with it they scroll
 * the strip smoothly and show which picture is in view.
 */
export function Gallery({ images, title }: { images: ProductImage[]; title: string }) {
  const strip = useRef<HTMLDivElement>(null)
  const [active, setActive] = useState(0)

  useEffect(() => {
    const root = strip.current
    if (!root) return
    const observer = new IntersectionObserver(
      (entries) => {
        for (const entry of entries) if (entry.isIntersecting) setActive(Number((entry.target as HTMLElement).dataset.index))
      },
      { root, threshold: 0.6 },
    )
    root.querySelectorAll('[data-index]').forEach((el) => observer.observe(el))
    return () => observer.disconnect()
  }, [images])

  if (images.length === 0) {
    return <UploadImage path={null} alt={title} className="aspect-square w-full rounded-3xl" />
  }

  function show(index: number, event: React.MouseEvent) {
    const root = strip.current
    const target = root?.querySelector<HTMLElement>(`[data-index="${index}"]`)
    if (!root || !target) return
    event.preventDefault()
    root.scrollTo({ left: target.offsetLeft, behavior: window.matchMedia('(prefers-reduced-motion: reduce)').matches ? 'auto' : 'smooth' })
    setActive(index)
  }

  return (
    <div className="flex flex-col gap-3" data-testid="gallery">
      <div
        ref={strip}
        className="strip"
        tabIndex={0}
        role="region"
        aria-label={`${title}: pictures`}
      >
        {images.map((image, i) => (
          <div key={image.id} id={`picture-${i + 1}`} data-index={i} className="slide">
            <UploadImage path={image.path} alt={image.alt} width={image.width} height={image.height} isPriority={i === 0} sizes="(min-width: 1024px) 50vw, 100vw" className="slide-img" />
          </div>
        ))}
      </div>
      {images.length > 1 ? (
        <ul className="flex gap-3" aria-label="Choose a picture">
          {images.map((image, i) => (
            <li key={image.id}>
              <a
                href={`#picture-${i + 1}`}
                onClick={(event) => show(i, event)}
                aria-current={i === active ? 'true' : undefined}
                aria-label={`Picture ${i + 1} of ${images.length}`}
                className="thumb"
              >
                <UploadImage path={image.path} alt="" width={160} height={160} sizes="80px" className="thumb-img" />
              </a>
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  )
}
