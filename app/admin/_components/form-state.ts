// What an admin form's server action answers when it refuses the input: everything the owner
// typed (so the form comes back filled in) and a message per field (shown beside it). A form
// that succeeds answers with a redirect instead (redirect.ts), so this is only ever a refusal.
//
// The actions run through React's useActionState (action-form.tsx): with JavaScript the state
// arrives as the action's result; without it the browser posts the form, Next runs the same
// action and renders the page again with this state, so the form still comes back filled in.

export type FormState = {
  /** what was typed, by field name; absent until the form has been sent once */
  values?: Record<string, string>
  /** one message per field name; '' is the key for a message about the whole form */
  errors: Record<string, string>
  /** counts the answers, so each one renders the form afresh from `values` */
  tries: number
}

export const NO_ANSWER: FormState = { errors: {}, tries: 0 }

export type FormAction = (previous: FormState, formData: FormData) => Promise<FormState>

// Secrets never travel back to the page, whatever the form; the field is simply empty again.
const SECRET = /password|^current$|^next$|^confirm$|^\$ACTION/

/** The form's text fields as typed (files and secrets left out), each cut to a sane length. */
export function typed(formData: FormData): Record<string, string> {
  const values: Record<string, string> = {}
  for (const [name, value] of formData.entries()) {
    if (typeof value !== 'string' || SECRET.test(name) || name in values) continue
    values[name] = value.slice(0, 20_000)
  }
  return values
}

/** The answer to a refused form: what was typed and why it was refused. */
export function refused(previous: FormState | undefined, formData: FormData, errors: Record<string, string>): FormState {
  return { values: typed(formData), errors, tries: (typeof previous?.tries === 'number' ? previous.tries : 0) + 1 }
}

/** The messages of a zod result keyed by field name (the first issue per field wins). */
export function issuesByField(issues: readonly { path: readonly PropertyKey[]; message: string }[], prefix = ''): Record<string, string> {
  const errors: Record<string, string> = {}
  for (const issue of issues) {
    const key = issue.path.length ? `${prefix}${String(issue.path[0])}` : ''
    errors[key] ??= issue.message
  }
  return errors
}
