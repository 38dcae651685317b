'use client'

import { useActionState } from 'react'
import { FlashMessage } from '@/app/_components/flash-message'
import { emptyState, type ActionState } from './action-state'
import { input, label as labelClass } from './styles'

// A form whose server action answers with an ActionState: the form-wide message on top, and
// each field keeps what was typed (React resets a form after its action; the fields' default
// values are the typed ones, so the reset puts them back).

type Action = (state: ActionState, formData: FormData) => Promise<ActionState>

export function StateForm({ action, testId, className, children }: { action: Action; testId?: string; className?: string; children: (state: ActionState) => React.ReactNode }) {
  const [state, formAction, isPending] = useActionState(action, emptyState)
  return (
    <form action={formAction} className={className} data-testid={testId} aria-busy={isPending}>
      {state.errors.form ? (
        <div role="alert" className="mb-3">
          <FlashMessage flash={{ kind: 'error', text: state.errors.form }} />
        </div>
      ) : null}
      {state.notice ? (
        <div role="status" className="mb-3">
          <FlashMessage flash={{ kind: 'notice', text: state.notice }} />
        </div>
      ) : null}
      {children(state)}
    </form>
  )
}

/** A labelled input that shows its field's error and keeps the typed value. */
export function StateField({ state, id, label, ...rest }: { state: ActionState; id: string; label: React.ReactNode } & Omit<React.InputHTMLAttributes<HTMLInputElement>, 'id' | 'name' | 'className' | 'defaultValue'>) {
  const error = state.errors[id]
  const hasValue = rest.type !== 'password'
  return (
    <div>
      <label htmlFor={id} className={labelClass}>{label}</label>
      <input id={id} name={id} className={input} aria-invalid={error ? true : undefined} aria-describedby={error ? `${id}-error` : undefined} defaultValue={hasValue ? state.values[id] : undefined} {...rest} />
      {error ? (
        <p id={`${id}-error`} className="mt-1 text-sm text-red-800" data-testid={`${id}-error`}>
          {error}
        </p>
      ) : null}
    </div>
  )
}
