// What an admin form's server action answers when it refuses the input: everything the owner
// typed (so the form comes back filled in) and a message per field (shown beside it). A form
// that succeeds usually answers with a redirect instead (redirect.ts); one that must stay on
// the page (recovery codes shown once, a setting saved in place) answers with a notice.
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
  /** a success that stays on the page: the message to show */
  notice?: string
  /** what the owner sees once (recovery codes): in this answer only, never stored in a page */
  shownOnce?: string[]
}

export const NO_ANSWER: FormState = { errors: {}, tries: 0 }

export type FormAction = (previous: FormState, formData: FormData) => Promise<FormState>

// Secrets never travel back to the page, whatever the form; the field is simply empty again.
const SECRET = /password|^current$|^next$|^confirm$|^\$ACTION/

/** The form's text fields as typed (files and secrets left out), each cut to a sane length. */
function typed(formData: FormData): Record<string, string> {
  const values: Record<string, string> = {}
  // A post that is not the form (no fields at all) keeps nothing.
  if (!(formData instanceof FormData)) return values
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

/** The answer to a form that succeeded and stays on the page: a notice, the fields as typed unless `values` says otherwise. */
export function answered(previous: FormState | undefined, formData: FormData, notice: string, extra: { values?: Record<string, string>; shownOnce?: string[] } = {}): FormState {
  return { values: extra.values ?? typed(formData), errors: {}, notice, shownOnce: extra.shownOnce, tries: (typeof previous?.tries === 'number' ? previous.tries : 0) + 1 }
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
