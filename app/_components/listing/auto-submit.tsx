'use client'

import { useEffect, useRef } from 'react'

/**
 * Submits the surrounding form when one of its controls changes. Without JavaScript the
 * form's own submit button does the same job. With it, two things a plain GET form gets
 * wrong are tidied: empty values ("All products" is collection="") stay out of the URL, and
 * a filter panel folded into <details> on a phone closes, since a client navigation keeps
 * it open and the results would come back pushed a screen and a half down.
 */
export function AutoSubmit() {
  const marker = useRef<HTMLSpanElement>(null)
  useEffect(() => {
    const form = marker.current?.closest('form')
    if (!form) return
    const onChange = () => form.requestSubmit()
    // Fired by every `new FormData(form)`, including the one next/form builds the URL from.
    const onFormData = (event: FormDataEvent) => {
      const data = event.formData
      for (const key of new Set([...data.keys()])) {
        const values = data.getAll(key)
        if (!values.includes('')) continue
        data.delete(key)
        for (const value of values) if (value !== '') data.append(key, value)
      }
    }
    const onSubmit = () => {
      const panel = form.closest('details')
      if (panel) panel.open = false
    }
    form.addEventListener('change', onChange)
    form.addEventListener('formdata', onFormData)
    form.addEventListener('submit', onSubmit)
    form.dataset.autoSubmit = 'on'
    return () => {
      form.removeEventListener('change', onChange)
      form.removeEventListener('formdata', onFormData)
      form.removeEventListener('submit', onSubmit)
    }
  }, [])
  return <span ref={marker} hidden />
}
