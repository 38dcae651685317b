'use client'

import { isResizable, MAX_SIDE, RESIZED_WIDTHS, resizedPath } from '@/lib/picture-sizes'
import { uploadUrl } from './upload-url'

// A client component on purpose. React's server-component renderer sends a preload hint for
// every <img> that is not lazy, and Next prefetches the pages behind visible links: each
// prefetched collection or product page then preloaded its pictures into the page being
// looked at, which never used them (Chromium warns for each one). As a client component
// the picture is rendered only into the HTML of the page that shows it, where the preload
// is right.

type Props = {
  path: string | null
  alt: string
  width?: number
  height?: number
  className?: string
  /** above the fold: load at once, with high priority */
  isPriority?: boolean
  /** how wide the picture is shown, for the browser to pick a copy (`srcset`); say it where a picture is small */
  sizes?: string
}

/**
 * A picture from STORAGE_DIR/uploads (served by app/uploads). A plain <img>: the copies are
 * made by the store itself. An owner's uploaded JPEG has smaller copies (lib/picture-sizes.ts),
 * offered in `srcset` with the original as the widest, so a card on a phone loads a 320 px
 * copy, not 2000 px. Anything else (the demo's 640 px JPEGs, a PNG, an SVG) is sent as it is.
 */
export function UploadImage({ path, alt, width = 800, height = 800, className = '', isPriority = false, sizes }: Props) {
  if (!path) {
    return (
      <div className={`flex items-center justify-center bg-stone-100 text-stone-400 ${className}`} role="img" aria-label={alt}>
        <svg viewBox="0 0 24 24" className="size-10" fill="none" stroke="currentColor" strokeWidth="1.5" aria-hidden="true">
          <rect x="3" y="4" width="18" height="16" rx="2" />
          <path d="m3 16 5-5 5 5 3-3 5 5" />
        </svg>
      </div>
    )
  }
  return (
    // eslint-disable-next-line @next/next/no-img-element -- see the comment above
    <img
      src={uploadUrl(path)}
      srcSet={isResizable(path) ? srcSet(path) : undefined}
      alt={alt}
      width={width}
      height={height}
      sizes={isResizable(path) ? (sizes ?? '100vw') : undefined}
      loading={isPriority ? 'eager' : 'lazy'}
      fetchPriority={isPriority ? 'high' : undefined}
      decoding="async"
      className={className}
    />
  )
}

/** Every copy by its width, then the original (at most MAX_SIDE wide) as the widest choice. */
function srcSet(path: string): string {
  return [...RESIZED_WIDTHS.map((w) => `${uploadUrl(resizedPath(path, w))} ${w}w`), `${uploadUrl(path)} ${MAX_SIDE}w`].join(', ')
}
