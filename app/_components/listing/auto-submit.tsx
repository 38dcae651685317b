'use client'

import { useEffect, useRef } from 'react'

/**
 * Submits the surrounding form when one of its controls changes. Without JavaScript the
 * form's own submit button does the same job.
 */
export function AutoSubmit() {
  const marker = useRef<HTMLSpanElement>(null)
  useEffect(() => {
    const form = marker.current?.closest('form')
    if (!form) return
    const onChange = () => form.requestSubmit()
    form.addEventListener('change', onChange)
    form.dataset.autoSubmit = 'on'
    return () => form.removeEventListener('change', onChange)
  }, [])
  return <span ref={marker} hidden />
}
