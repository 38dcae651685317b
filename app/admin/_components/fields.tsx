import { input, label as labelClass } from './styles'

// A labelled control as the admin forms and filters use it: the label above, the control
// named after its id so a GET filter or a server action reads it under the same key.

type FieldProps = { id: string; label: React.ReactNode }

/** `hint`: how to write the value, shown under the control and read out with it. */
export function TextField({ id, label, hint, ...rest }: FieldProps & { hint?: string } & Omit<React.InputHTMLAttributes<HTMLInputElement>, 'id' | 'name' | 'className'>) {
  return (
    <div>
      <label htmlFor={id} className={labelClass}>{label}</label>
      <input id={id} name={id} className={input} aria-describedby={hint ? `${id}-hint` : undefined} {...rest} />
      {hint ? <p id={`${id}-hint`} className="mt-1 text-xs text-stone-600">{hint}</p> : null}
    </div>
  )
}

export function SelectField({ id, label, defaultValue, className, children }: FieldProps & { defaultValue: string; className?: string; children: React.ReactNode }) {
  return (
    <div className={className}>
      <label htmlFor={id} className={labelClass}>{label}</label>
      <select id={id} name={id} defaultValue={defaultValue} className={input}>
        {children}
      </select>
    </div>
  )
}
