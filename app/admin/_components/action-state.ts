// What a form's server action answers under useActionState: the values as typed (so a
// refused form comes back filled in), a message per field or for the whole form, and on
// success a notice, with anything to be shown once (recovery codes), never stored in a page.
// Plain data, shared by the action (server) and the form (client).

export type ActionState = { values: Record<string, string>; errors: Record<string, string>; notice?: string; shownOnce?: string[] }

export const emptyState: ActionState = { values: {}, errors: {} }

/** The named fields of a submitted form as text, each cut to a sane length. */
export function valuesOf(formData: FormData, names: readonly string[]): Record<string, string> {
  return Object.fromEntries(names.map((name) => {
    const value = formData.get(name)
    return [name, typeof value === 'string' ? value.slice(0, 1000) : '']
  }))
}
