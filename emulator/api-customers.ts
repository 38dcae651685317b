import type Stripe from 'stripe'
import { expand, type Handler } from './api-common'
import type { Emulator } from './emulator'
import { invalid, noSuch } from './errors'
import { newId } from './ids'
import { buildCustomer } from './objects'
import { isEmail, type Reader } from './params'

// /v1/customers (https://docs.stripe.com/api/customers): create, retrieve and update, with
// the fields Checkout reads to prefill a session given `customer` (email, name, shipping).

const FIELDS = ['email', 'name', 'description', 'metadata', 'shipping', 'phone', 'expand'] as const

function email(params: Reader): string | null | undefined {
  const value = params.string('email', { max: 512 })
  if (value === undefined) return undefined
  if (value === '') return null
  if (!isEmail(value)) throw invalid(`Invalid email address: ${value}`, 'email', 'email_invalid')
  return value
}

function shipping(params: Reader): Stripe.Customer.Shipping | null | undefined {
  if (params.value.shipping === '') return null
  const given = params.object('shipping')
  if (!given) return undefined
  given.only(['name', 'address', 'phone'])
  const address = given.object('address', { required: true })!
  address.only(['line1', 'line2', 'city', 'state', 'postal_code', 'country'])
  const text = (key: string) => address.string(key, { max: 200 }) ?? null
  return {
    address: { line1: text('line1'), line2: text('line2'), city: text('city'), state: text('state'), postal_code: text('postal_code'), country: text('country')?.toUpperCase() ?? null },
    name: given.requiredString('name', { max: 256 }),
    phone: given.string('phone', { max: 20 }) ?? null,
  }
}

function customerOrThrow(emulator: Emulator, id: string, param = 'customer'): Stripe.Customer {
  const customer = emulator.get<Stripe.Customer>(id, 'customer')
  if (!customer) throw noSuch('customer', id, param)
  return customer
}

const customerCreate: Handler = (emulator, params) => {
  params.only(FIELDS)
  const customer = buildCustomer({
    id: newId('cus'),
    created: emulator.nowSeconds(),
    email: email(params) ?? null,
    name: params.string('name', { max: 256 }) ?? null,
    description: params.string('description', { max: 350 }) ?? null,
    metadata: params.metadata('metadata') ?? {},
    shipping: shipping(params) ?? null,
    phone: params.string('phone', { max: 20 }) ?? null,
  })
  emulator.store.putObject('customer', customer)
  return { status: 200, body: expand(emulator, customer, params) }
}

const customerRetrieve: Handler = (emulator, params, [id]) => {
  params.only(['expand'])
  return { status: 200, body: expand(emulator, customerOrThrow(emulator, id!, 'id'), params) }
}

const customerUpdate: Handler = (emulator, params, [id]) => {
  params.only(FIELDS)
  const customer = { ...customerOrThrow(emulator, id!, 'id') }
  const newEmail = email(params)
  if (newEmail !== undefined) customer.email = newEmail
  const name = params.string('name', { max: 256 })
  if (name !== undefined) customer.name = name === '' ? null : name
  const newShipping = shipping(params)
  if (newShipping !== undefined) customer.shipping = newShipping
  const metadata = params.metadata('metadata')
  if (metadata !== undefined) customer.metadata = { ...customer.metadata, ...metadata }
  emulator.store.putObject('customer', customer)
  return { status: 200, body: expand(emulator, customer, params) }
}

const ID = '([A-Za-z0-9_]+)'

export const CUSTOMER_ROUTES = [
  { method: 'POST', pattern: /^\/v1\/customers$/, handler: customerCreate },
  { method: 'GET', pattern: new RegExp(`^/v1/customers/${ID}$`), handler: customerRetrieve },
  { method: 'POST', pattern: new RegExp(`^/v1/customers/${ID}$`), handler: customerUpdate },
]
