'use client'

import { createContext, use, useActionState, useEffect, useRef } from 'react'
import { FlashMessage } from '@/app/_components/flash-message'
import { NO_ANSWER, type FormAction, type FormState } from './form-state'
import { input as inputClass, label as labelClass } from './styles'

// An admin form that posts to a server action through useActionState. A refusal comes back as
// { values, errors } (form-state.ts): the form renders again from what was typed, each message
// sits under its field (aria-describedby, aria-invalid) and a summary at the top lists them.
// Without JavaScript the browser posts the same form and Next renders the page with the same
// state, so nothing typed is lost either way.

const AnswerContext = createContext<FormState>(NO_ANSWER)

type FormProps = {
  action: FormAction
  /** or a function of the last answer, for a form that looks different once it succeeded */
  children: React.ReactNode | ((state: FormState) => React.ReactNode)
  className?: string
  testId?: string
  /** off for the small inline forms (stock), where the message under the field is enough */
  hasSummary?: boolean
  /**
   * For the long forms (a product, many prices at once): leaving the page with edits not yet
   * saved asks first, whether by a link, a reload or closing the tab.
   */
  isGuardingEdits?: boolean
  'aria-label'?: string
}

export function ActionForm({ action, children, className, testId, hasSummary = true, isGuardingEdits = false, ...rest }: FormProps) {
  const [state, formAction, isPending] = useActionState(action, NO_ANSWER)
  const formRef = useRef<HTMLFormElement>(null)
  const messages = Object.entries(state.errors)
  useEditsGuard(formRef, isGuardingEdits && !isPending, state.values !== undefined && messages.length > 0)
  return (
    // A new key for every answer: the fields mount again with the typed values as defaults.
    <form ref={formRef} key={state.tries} action={formAction} className={className} data-testid={testId} aria-busy={isPending || undefined} aria-label={rest['aria-label']}>
      {messages.length && (hasSummary || state.errors['']) ? (
        <div role="alert" className="rounded-xl border border-red-200 bg-red-50 px-4 py-3 text-sm text-red-900" data-testid="flash-error">
          {state.errors[''] ? <p className="font-medium">{state.errors['']}</p> : null}
          {hasSummary && messages.some(([name]) => name) ? (
            <>
              {state.errors[''] ? null : <p className="font-medium">Nothing was saved. Please check:</p>}
              <ul className="mt-1 list-disc pl-5">
                {messages.filter(([name]) => name).map(([name, message]) => <li key={name}>{message}</li>)}
              </ul>
            </>
          ) : null}
        </div>
      ) : null}
      {state.notice ? (
        <div role="status" className="mb-3">
          <FlashMessage flash={{ kind: 'notice', text: state.notice }} />
        </div>
      ) : null}
      <AnswerContext value={state}>{typeof children === 'function' ? children(state) : children}</AnswerContext>
    </form>
  )
}

const LEAVE_QUESTION = 'This page has changes that are not saved. Leave it and lose them?'

/**
 * While `isOn`, a link that would leave the page asks first if the form holds edits not saved,
 * and so do a reload and closing the tab (the browser's own question). Edits are fields that
 * differ from their defaults (what the server rendered), or any answer that refused a save:
 * the form mounts again with what was typed as its defaults, so it looks clean while nothing
 * of it was saved. Nothing is tracked as it is typed: the form is compared when someone leaves.
 */
function useEditsGuard(formRef: React.RefObject<HTMLFormElement | null>, isOn: boolean, wasRefused: boolean) {
  useEffect(() => {
    if (!isOn) return
    const hasEdits = () => {
      const form = formRef.current
      return !!form && (wasRefused || Array.from(form.elements).some(isEdited))
    }
    const onClick = (event: MouseEvent) => {
      if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return
      const link = (event.target as Element | null)?.closest?.('a[href]') as HTMLAnchorElement | null
      if (!link || (link.target && link.target !== '_self') || link.hasAttribute('download')) return
      const to = new URL(link.href, location.href)
      if (to.pathname === location.pathname && to.search === location.search) return // a fragment on this page
      if (!hasEdits() || window.confirm(LEAVE_QUESTION)) return
      // Captured on the document, before the router's own listener on the page's root.
      event.preventDefault()
      event.stopPropagation()
    }
    const onBeforeUnload = (event: BeforeUnloadEvent) => {
      if (hasEdits()) event.preventDefault()
    }
    document.addEventListener('click', onClick, true)
    window.addEventListener('beforeunload', onBeforeUnload)
    return () => {
      document.removeEventListener('click', onClick, true)
      window.removeEventListener('beforeunload', onBeforeUnload)
    }
  }, [formRef, isOn, wasRefused])
}

function isEdited(element: Element): boolean {
  if (element instanceof HTMLInputElement) {
    if (element.type === 'hidden' || element.type === 'submit' || element.type === 'button') return false
    if (element.type === 'checkbox' || element.type === 'radio') return element.checked !== element.defaultChecked
    if (element.type === 'file') return element.files !== null && element.files.length > 0
    return element.value !== element.defaultValue
  }
  if (element instanceof HTMLTextAreaElement) return element.value !== element.defaultValue
  if (element instanceof HTMLSelectElement) return Array.from(element.options).some((option) => option.selected !== option.defaultSelected)
  return false
}

type Common = { name: string; id?: string; label: React.ReactNode; hint?: React.ReactNode; className?: string; labelClassName?: string }

/** What a field needs from the last answer: its typed value, its message and the ids that tie them to it. */
function useAnswer(name: string, id: string | undefined, hasHint: boolean) {
  const state = use(AnswerContext)
  const fieldId = id ?? name
  const error = state.errors[name]
  const describedBy = [hasHint ? `${fieldId}-hint` : '', error ? `${fieldId}-error` : ''].filter(Boolean).join(' ') || undefined
  return { fieldId, error, typed: state.values === undefined ? undefined : (state.values[name] ?? ''), a11y: { 'aria-invalid': error ? true : undefined, 'aria-describedby': describedBy } }
}

function Notes({ fieldId, hint, error }: { fieldId: string; hint?: React.ReactNode; error?: string }) {
  return (
    <>
      {hint ? <p id={`${fieldId}-hint`} className="mt-1 text-xs text-stone-600">{hint}</p> : null}
      {error ? <p id={`${fieldId}-error`} className="mt-1 text-sm font-medium text-red-800" data-testid="field-error">{error}</p> : null}
    </>
  )
}

type InputProps = Common & Omit<React.InputHTMLAttributes<HTMLInputElement>, 'id' | 'name' | 'className' | 'defaultValue' | 'type'> & { defaultValue?: string | number; type?: 'text' | 'email' | 'number' | 'date' | 'search' | 'password' }

export function Field({ name, id, label, hint, className, labelClassName, defaultValue, ...rest }: InputProps) {
  const { fieldId, error, typed, a11y } = useAnswer(name, id, !!hint)
  return (
    <div className={className}>
      <label htmlFor={fieldId} className={labelClassName ?? labelClass}>{label}</label>
      <input id={fieldId} name={name} className={inputClass} defaultValue={typed ?? defaultValue} {...a11y} {...rest} />
      <Notes fieldId={fieldId} hint={hint} error={error} />
    </div>
  )
}

export function TextAreaField({ name, id, label, hint, className, defaultValue, ...rest }: Common & Omit<React.TextareaHTMLAttributes<HTMLTextAreaElement>, 'id' | 'name' | 'className' | 'defaultValue'> & { defaultValue?: string }) {
  const { fieldId, error, typed, a11y } = useAnswer(name, id, !!hint)
  return (
    <div className={className}>
      <label htmlFor={fieldId} className={labelClass}>{label}</label>
      <textarea id={fieldId} name={name} className={inputClass} defaultValue={typed ?? defaultValue} {...a11y} {...rest} />
      <Notes fieldId={fieldId} hint={hint} error={error} />
    </div>
  )
}

export function ChoiceField({ name, id, label, hint, className, defaultValue, options }: Common & { defaultValue: string; options: readonly (readonly [value: string, text: string])[] }) {
  const { fieldId, error, typed, a11y } = useAnswer(name, id, !!hint)
  return (
    <div className={className}>
      <label htmlFor={fieldId} className={labelClass}>{label}</label>
      <select id={fieldId} name={name} className={inputClass} defaultValue={typed || defaultValue} {...a11y}>
        {options.map(([value, text]) => <option key={value} value={value}>{text}</option>)}
      </select>
      <Notes fieldId={fieldId} hint={hint} error={error} />
    </div>
  )
}

export function CheckboxField({ name, id, label, className, defaultChecked }: Omit<Common, 'hint'> & { defaultChecked?: boolean }) {
  const { fieldId, error, typed, a11y } = useAnswer(name, id, false)
  return (
    <div className={className}>
      <div className="flex items-center gap-2">
        <input id={fieldId} name={name} type="checkbox" defaultChecked={typed === undefined ? defaultChecked : typed === 'on'} className="size-4" {...a11y} />
        <label htmlFor={fieldId} className="text-sm">{label}</label>
      </div>
      <Notes fieldId={fieldId} error={error} />
    </div>
  )
}

/** A hidden value the action may replace in its answer (a fresh one-time nonce after a refusal). */
export function HiddenField({ name, defaultValue }: { name: string; defaultValue: string }) {
  const { typed } = useAnswer(name, undefined, false)
  return <input type="hidden" name={name} value={typed || defaultValue} />
}
