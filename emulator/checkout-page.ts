import type Stripe from 'stripe'
import type { Emulator } from './emulator'
import { ApiError } from './errors'
import type { StoredSession } from './objects'
import { isEmail } from './params'
import { formatAmount } from './pricing'
import type { Totals } from './promotions'

// The hosted payment page: what Stripe Checkout shows at session.url, reduced to the fields
// the store needs. Plain HTML with inline CSS, every field labelled, errors announced; it
// works without JavaScript (a few lines only refresh the totals when the shipping choice or
// the country changes, and carry the typed address along when a promotion code is applied).

type Values = {
  email: string
  name: string
  line1: string
  line2: string
  city: string
  state: string
  postal_code: string
  country: string
  shipping_rate: string
  card: string
  exp: string
  cvc: string
  pay_later: boolean
  promotion_code: string
  promotions_consent: boolean
}

type Errors = Partial<Record<keyof Values | 'form', string>>

/** The promotion-code form's labels, for tests that drive the page. */
const PROMOTION_CODE_LABEL = 'Promotion code'

const PAY_LATER_LABEL = 'Pay later (bank transfer — settles in a few seconds)'

/** The promotions box shown when a session collects consent (consent_collection[promotions]=auto). */
const PROMOTIONS_CONSENT_LABEL = 'Keep me updated with news and personalized offers'

const asksConsent = (session: StoredSession) => session.consent_collection?.promotions === 'auto'

function esc(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)
}

const COUNTRY_NAMES = (() => {
  try {
    return new Intl.DisplayNames(['en'], { type: 'region' })
  } catch {
    return null
  }
})()

function countryName(code: string): string {
  try {
    return COUNTRY_NAMES?.of(code) ?? code
  } catch {
    return code
  }
}

const STYLE = `
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1a1a1a;background:#f6f7f9}
.banner{background:#fff4ce;border-bottom:2px solid #b7791f;padding:.75rem 1rem;text-align:center;color:#5c3b00}
.banner p{margin:0}.banner strong{font-weight:700}
main>h1{grid-column:1/-1;margin:0}
main{max-width:960px;margin:0 auto;padding:1.5rem 1rem;display:grid;gap:1.5rem;grid-template-columns:1fr;align-items:start}
@media(min-width:800px){main{grid-template-columns:1fr 1.2fr}}
section{background:#fff;border:1px solid #d9dce1;border-radius:10px;padding:1.25rem}
h1,h2{margin:0 0 1rem;font-size:1.25rem}
ul.lines{list-style:none;margin:0;padding:0}
ul.lines li{display:flex;align-items:center;gap:.75rem;padding:.5rem 0;border-bottom:1px solid #eceef1}
ul.lines .thumb{width:48px;height:48px;flex:none;border-radius:8px;border:1px solid #eceef1;background:#f1f2f4;object-fit:cover}
ul.lines .desc{flex:1;min-width:0}ul.lines .amount{white-space:nowrap}
.merchant{display:flex;align-items:center;gap:.6rem;grid-column:1/-1;font-weight:600;font-size:1.05rem}
.merchant .mark{display:inline-flex;align-items:center;justify-content:center;width:2rem;height:2rem;border-radius:8px;background:#1a1a1a;color:#fff;font-size:.95rem}
.merchant .test{font-size:.7rem;font-weight:700;letter-spacing:.04em;text-transform:uppercase;background:#fff4ce;color:#5c3b00;border-radius:4px;padding:.1rem .4rem}
.muted{color:#555e6b;font-size:.9rem}
dl.totals{display:grid;grid-template-columns:1fr auto;gap:.25rem 1rem;margin:1rem 0 0}
dl.totals dt{color:#3d4450}dl.totals dd{margin:0;text-align:right}
dl.totals .total{font-weight:700;font-size:1.1rem;color:#1a1a1a}
fieldset{border:0;margin:0 0 1.25rem;padding:0}
legend{font-weight:600;margin-bottom:.5rem;padding:0}
label{display:block;font-weight:500;margin:.5rem 0 .25rem}
input[type=text],input[type=email],input[type=tel],select{width:100%;padding:.6rem .7rem;border:1px solid #8a919c;border-radius:6px;font:inherit;background:#fff}
input:focus-visible,select:focus-visible,button:focus-visible,a:focus-visible{outline:3px solid #1d4ed8;outline-offset:2px}
.row{display:grid;grid-template-columns:1fr 1fr;gap:0 .75rem}
.row3{display:grid;grid-template-columns:1fr 1fr;gap:0 .75rem}
@media(max-width:479px){.row{grid-template-columns:1fr}}
.pay-later-only{display:none}
form:has(#pay_later:checked) .card-fields,form:has(#pay_later:checked) .pay-now-only{display:none}
form:has(#pay_later:checked) .pay-later-only{display:inline}
.choice{display:flex;align-items:flex-start;gap:.5rem;margin:.4rem 0;font-weight:400}
.choice input{margin-top:.3rem}
.hint{color:#555e6b;font-size:.875rem;margin:.25rem 0 0}
.field-error{color:#b42318;font-size:.9rem;margin:.25rem 0 0}
[aria-invalid=true]{border-color:#b42318!important}
.alert{background:#fef3f2;border:1px solid #b42318;color:#7a1a12;border-radius:6px;padding:.75rem;margin-bottom:1rem}
button{width:100%;padding:.8rem;border:0;border-radius:6px;background:#1d4ed8;color:#fff;font:inherit;font-weight:600;cursor:pointer}
button:hover{background:#1e40af}
.cancel{display:inline-block;margin-top:1rem;color:#1d4ed8}
.promo{margin-top:1rem;border-top:1px solid #eceef1;padding-top:.75rem}
.promo-row{display:flex;gap:.5rem;align-items:stretch}
.promo-row input{flex:1}
button.secondary{width:auto;background:#fff;color:#1d4ed8;border:1px solid #1d4ed8;padding:.55rem .9rem}
button.secondary:hover{background:#eef2ff}
.applied{display:flex;justify-content:space-between;align-items:center;gap:.5rem;margin:0}
.discount{color:#05603a}
`

function page(title: string, body: string, status = 200): Response {
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${esc(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header class="banner"><p><strong>Test mode — payments are simulated.</strong> This page is served by the built-in payments emulator; no card is charged and no money moves.</p></header>
${body}
</body>
</html>`
  return new Response(html, { status, headers: { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store', 'X-Robots-Tag': 'noindex' } })
}

function successUrlOf(session: Stripe.Checkout.Session): string | null {
  return session.success_url ? session.success_url.replaceAll('{CHECKOUT_SESSION_ID}', session.id) : null
}

function statePage(session: StoredSession): Response {
  if (session.status === 'complete') {
    const url = successUrlOf(session)
    return page(
      'Payment complete',
      `<main><section><h1>Payment complete</h1><p>This checkout has already been paid.</p>${url ? `<p><a class="cancel" href="${esc(url)}">Return to the store</a></p>` : ''}</section></main>`,
    )
  }
  return page(
    'Checkout expired',
    `<main><section><h1>This checkout has expired</h1><p>Nothing was charged. Please start checkout again from the store.</p>${
      session.cancel_url ? `<p><a class="cancel" href="${esc(session.cancel_url)}">Return to the store</a></p>` : ''
    }</section></main>`,
    410,
  )
}

function fieldHtml(args: { id: keyof Values; label: string; value: string; errors: Errors; type?: string; autocomplete?: string; required?: boolean; hint?: string; inputmode?: string }): string {
  const error = args.errors[args.id]
  const describedBy = [args.hint ? `${args.id}-hint` : '', error ? `${args.id}-error` : ''].filter(Boolean).join(' ')
  return `<label for="${args.id}">${esc(args.label)}</label>
<input id="${args.id}" name="${args.id}" type="${args.type ?? 'text'}" value="${esc(args.value)}"${args.autocomplete ? ` autocomplete="${args.autocomplete}"` : ''}${args.inputmode ? ` inputmode="${args.inputmode}"` : ''}${
    args.required ? ' required aria-required="true"' : ''
  }${error ? ' aria-invalid="true"' : ''}${describedBy ? ` aria-describedby="${describedBy}"` : ''}>
${args.hint ? `<p class="hint" id="${args.id}-hint">${esc(args.hint)}</p>` : ''}${error ? `<p class="field-error" id="${args.id}-error">${esc(error)}</p>` : ''}`
}

/** Countries a session without a shipping address asks for, to work out tax: those with a rate. */
function billingCountries(emulator: Emulator): string[] {
  return Object.keys(emulator.taxRates).sort((a, b) => countryName(a).localeCompare(countryName(b)))
}

/** The country tax is worked out from on this page: the shipping country, else the billing one. */
function taxCountry(session: StoredSession, values: Values): string | null {
  if (!session.automatic_tax.enabled) return null
  return /^[A-Z]{2}$/.test(values.country) ? values.country : null
}

function selectedShipping(session: StoredSession, values: Values): number {
  return Math.min(Math.max(0, Number(values.shipping_rate) || 0), Math.max(0, session.shipping_options.length - 1))
}

/** The figures the summary shows, formatted; the quote endpoint sends the same for the script. */
function summaryFigures(session: StoredSession, totals: Totals) {
  const currency = session.currency ?? 'usd'
  const isAllIncluded = totals.tax > 0 && totals.includedTax === totals.tax
  const rate = totals.taxLabel ?? (totals.taxPercentage === null ? null : 'not collected')
  return {
    subtotal: formatAmount(totals.subtotal, currency),
    discount: `−${formatAmount(totals.discount, currency)}`,
    shipping: formatAmount(totals.shipping, currency),
    tax: formatAmount(totals.tax, currency),
    taxLabel: `${isAllIncluded ? 'Includes tax' : 'Tax'}${rate ? ` (${rate})` : ''}`,
    total: formatAmount(totals.total, currency),
  }
}

function renderForm(emulator: Emulator, session: StoredSession, values: Values, errors: Errors, status = 200): Response {
  const currency = session.currency ?? 'usd'
  const lines = emulator.lineItems(session.id)
  const rates = session.shipping_options.map((option) => {
    const id = typeof option.shipping_rate === 'string' ? option.shipping_rate : option.shipping_rate.id
    return { amount: option.shipping_amount, rate: emulator.get<Stripe.ShippingRate>(id, 'shipping_rate') }
  })
  const selected = selectedShipping(session, values)
  const totals = emulator.quote(session.id, { country: taxCountry(session, values), shippingIndex: selected })
  const figures = summaryFigures(session, totals)
  const total = totals.total
  const allowed = session.shipping_address_collection?.allowed_countries ?? null
  const attached = session.emulator.attached ?? null
  const isTaxed = session.automatic_tax.enabled

  // As Stripe's page does, each line shows its product's first picture when it has one.
  const imageOf = (l: Stripe.LineItem): string | null => {
    const product = l.price?.product
    const found = typeof product === 'string' ? emulator.get<Stripe.Product>(product, 'product') : product && 'images' in product ? product : null
    const image = found?.images?.[0]
    return image && /^https?:\/\//.test(image) ? image : null
  }
  const lineHtml = lines
    .map((l) => {
      const image = imageOf(l)
      return `<li>${image ? `<img class="thumb" src="${esc(image)}" alt="" width="48" height="48">` : '<span class="thumb" aria-hidden="true"></span>'}<span class="desc">${esc(l.description)}${
        (l.quantity ?? 1) > 1 ? ` <span class="muted">× ${l.quantity}</span>` : ''
      }</span><span class="amount">${esc(formatAmount(l.amount_subtotal, currency))}</span></li>`
    })
    .join('')

  const estimate = (rate: Stripe.ShippingRate | undefined) => {
    const e = rate?.delivery_estimate
    if (!e?.minimum && !e?.maximum) return ''
    const unit = (e.maximum ?? e.minimum)!.unit.replace('_', ' ')
    const range = e.minimum && e.maximum && e.minimum.value !== e.maximum.value ? `${e.minimum.value}–${e.maximum.value}` : `${(e.maximum ?? e.minimum)!.value}`
    return ` <span class="muted">(${range} ${unit}s)</span>`
  }
  const shippingHtml = rates.length
    ? `<fieldset><legend>Shipping method</legend>${rates
        .map(
          (r, i) =>
            `<label class="choice"><input type="radio" name="shipping_rate" value="${i}" data-amount="${r.amount}"${i === selected ? ' checked' : ''}> <span>${esc(r.rate?.display_name ?? `Option ${i + 1}`)} — ${esc(
              formatAmount(r.amount, currency),
            )}${estimate(r.rate)}</span></label>`,
        )
        .join('')}</fieldset>`
    : ''

  const countryHtml = allowed
    ? `<label for="country">Country</label>
<select id="country" name="country" autocomplete="country" required aria-required="true"${errors.country ? ' aria-invalid="true" aria-describedby="country-error"' : ''}>
${allowed.map((c) => `<option value="${esc(c)}"${c === values.country ? ' selected' : ''}>${esc(countryName(c))}</option>`).join('')}
</select>${errors.country ? `<p class="field-error" id="country-error">${esc(errors.country)}</p>` : ''}`
    : ''

  const addressHtml = allowed
    ? `<fieldset><legend>Shipping address</legend>
${fieldHtml({ id: 'name', label: 'Full name', value: values.name, errors, autocomplete: 'name', required: true })}
${fieldHtml({ id: 'line1', label: 'Address line 1', value: values.line1, errors, autocomplete: 'address-line1', required: true })}
${fieldHtml({ id: 'line2', label: 'Address line 2 (optional)', value: values.line2, errors, autocomplete: 'address-line2' })}
<div class="row"><div>${fieldHtml({ id: 'city', label: 'City', value: values.city, errors, autocomplete: 'address-level2', required: true })}</div>
<div>${fieldHtml({ id: 'state', label: 'State / region (optional)', value: values.state, errors, autocomplete: 'address-level1' })}</div></div>
<div class="row"><div>${fieldHtml({ id: 'postal_code', label: 'Postal code', value: values.postal_code, errors, autocomplete: 'postal-code', required: true })}</div>
<div>${countryHtml}</div></div>
</fieldset>`
    : `<fieldset><legend>Your details</legend>${fieldHtml({ id: 'name', label: 'Full name', value: values.name, errors, autocomplete: 'name', required: true })}${
        isTaxed
          ? `<label for="country">Country</label>
<select id="country" name="country" autocomplete="country" required aria-required="true"${errors.country ? ' aria-invalid="true" aria-describedby="country-error"' : ''}>
${billingCountries(emulator).map((c) => `<option value="${esc(c)}"${c === values.country ? ' selected' : ''}>${esc(countryName(c))}</option>`).join('')}
</select>${errors.country ? `<p class="field-error" id="country-error">${esc(errors.country)}</p>` : ''}`
          : ''
      }</fieldset>`

  const discountName = attached ? (attached.code ?? attached.coupon.name ?? 'Discount') : ''
  const off = attached ? (attached.coupon.percent_off !== null ? `${attached.coupon.percent_off}% off` : `${formatAmount(attached.coupon.amount_off ?? 0, currency)} off`) : ''
  const promoError = errors.promotion_code
  const promoHtml = session.allow_promotion_codes
    ? `<form class="promo" id="promo-form" method="post" action="/emulator/checkout/${esc(encodeURIComponent(session.id))}" novalidate>
${
  attached
    ? `<p class="applied" id="promotion-applied"><span><strong>${esc(discountName)}</strong> applied — ${esc(off)}</span><button type="submit" class="secondary" name="action" value="remove_code" aria-label="Remove promotion code ${esc(discountName)}">Remove</button></p>`
    : `<label for="promotion_code">${esc(PROMOTION_CODE_LABEL)}</label>
<div class="promo-row"><input id="promotion_code" name="promotion_code" type="text" autocomplete="off" autocapitalize="characters" spellcheck="false" value="${esc(values.promotion_code)}"${
        promoError ? ' aria-invalid="true" aria-describedby="promotion_code-error"' : ''
      }><button type="submit" class="secondary" name="action" value="apply_code">Apply</button></div>`
}${promoError ? `<p class="field-error" id="promotion_code-error" role="alert">${esc(promoError)}</p>` : ''}
</form>`
    : ''

  const alert = errors.form ? `<div class="alert" role="alert" id="form-error">${esc(errors.form)}</div>` : ''
  const fieldErrors = Object.keys(errors).filter((k) => k !== 'form').length
  const summaryAlert = !errors.form && fieldErrors ? `<div class="alert" role="alert">Please correct the ${fieldErrors === 1 ? 'field' : `${fieldErrors} fields`} marked below.</div>` : ''
  const action = `/emulator/checkout/${encodeURIComponent(session.id)}`

  const merchant = emulator.businessName
  const body = `<main>
${merchant ? `<p class="merchant" data-testid="merchant"><span class="mark" aria-hidden="true">${esc(merchant.slice(0, 1).toUpperCase())}</span><span>${esc(merchant)}</span><span class="test">Test mode</span></p>` : ''}
<h1>Checkout</h1>
<section aria-labelledby="summary-heading">
<h2 id="summary-heading">Order summary</h2>
<ul class="lines">${lineHtml}</ul>
<dl class="totals">
<dt>Subtotal</dt><dd id="subtotal-amount">${esc(figures.subtotal)}</dd>
${attached ? `<dt class="discount">Discount (${esc(discountName)})</dt><dd class="discount" id="discount-amount">${esc(figures.discount)}</dd>` : ''}
${rates.length ? `<dt>Shipping</dt><dd id="shipping-amount">${esc(figures.shipping)}</dd>` : ''}
${isTaxed ? `<dt id="tax-label">${esc(figures.taxLabel)}</dt><dd id="tax-amount">${esc(figures.tax)}</dd>` : ''}
<dt class="total">Total</dt><dd class="total" id="total-amount">${esc(figures.total)}</dd>
</dl>
${promoHtml}
</section>
<section aria-labelledby="pay-heading">
<h2 id="pay-heading">Payment details</h2>
${alert}${summaryAlert}
<form method="post" action="${esc(action)}" id="pay-form" novalidate>
<fieldset><legend>Contact</legend>
${fieldHtml({ id: 'email', label: 'Email', value: values.email, errors, type: 'email', autocomplete: 'email', required: true })}
${asksConsent(session) ? `<label class="choice"><input type="checkbox" id="promotions_consent" name="promotions_consent" value="1"${values.promotions_consent ? ' checked' : ''}> <span>${esc(PROMOTIONS_CONSENT_LABEL)}</span></label>` : ''}
</fieldset>
${addressHtml}
${shippingHtml}
<fieldset><legend>Payment</legend>
<div class="card-fields">
${fieldHtml({ id: 'card', label: 'Card number', value: values.card, errors, autocomplete: 'cc-number', inputmode: 'numeric', hint: 'Simulated: 4242 4242 4242 4242 pays; 4000 0000 0000 0002 is declined.' })}
<div class="row3"><div>${fieldHtml({ id: 'exp', label: 'Expiry (optional)', value: values.exp, errors, type: 'tel', autocomplete: 'cc-exp', hint: 'MM / YY' })}</div>
<div>${fieldHtml({ id: 'cvc', label: 'CVC (optional)', value: values.cvc, errors, type: 'tel', autocomplete: 'cc-csc', inputmode: 'numeric', hint: '3 or 4 digits' })}</div></div>
</div>
<label class="choice"><input type="checkbox" id="pay_later" name="pay_later" value="1"${values.pay_later ? ' checked' : ''}> <span>${esc(PAY_LATER_LABEL)}</span></label>
</fieldset>
<button type="submit" id="pay-button"><span class="pay-now-only">Pay <span class="pay-amount">${esc(formatAmount(total, currency))}</span></span><span class="pay-later-only">Pay <span class="pay-amount">${esc(
    formatAmount(total, currency),
  )}</span> later by bank transfer</span></button>
</form>
${session.cancel_url ? `<a class="cancel" href="${esc(session.cancel_url)}">Cancel and return to the store</a>` : ''}
</section>
</main>
<script>
(function(){var f=document.getElementById('pay-form');if(!f)return;var url=${JSON.stringify(`${action}/quote`)};
function val(n){var el=f.querySelector('[name="'+n+'"]:checked')||f.querySelector('select[name="'+n+'"],input[name="'+n+'"]:not([type=radio]):not([type=checkbox])');return el?el.value:''}
function set(id,text){var el=document.getElementById(id);if(el&&typeof text==='string')el.textContent=text}
function refresh(){var q=new URLSearchParams({country:val('country'),shipping_rate:val('shipping_rate')||'0'});
fetch(url+'?'+q.toString(),{headers:{Accept:'application/json'}}).then(function(r){return r.ok?r.json():null}).then(function(d){if(!d)return;
set('subtotal-amount',d.subtotal);set('discount-amount',d.discount);set('shipping-amount',d.shipping);set('tax-label',d.taxLabel);set('tax-amount',d.tax);set('total-amount',d.total);
document.querySelectorAll('.pay-amount').forEach(function(el){el.textContent=d.total})}).catch(function(){})}
var taxed=!!document.getElementById('tax-amount');
var details=${JSON.stringify(`${action}/details`)};function save(){var c=document.getElementById('promotions_consent');var b=new URLSearchParams({email:val('email')});if(c)b.set('promotions_consent',c.checked?'1':'0');fetch(details,{method:'POST',body:b}).catch(function(){})}
f.addEventListener('change',function(e){var n=e.target&&e.target.name;if(n==='email'||n==='promotions_consent')save()});
f.addEventListener('change',function(e){var n=e.target&&e.target.name;if(n==='shipping_rate'||(n==='country'&&taxed))refresh()});
var p=document.getElementById('promo-form');if(p)p.addEventListener('submit',function(){['email','name','line1','line2','city','state','postal_code','country','shipping_rate'].forEach(function(n){var v=val(n);if(!v)return;var h=document.createElement('input');h.type='hidden';h.name=n;h.value=v;p.appendChild(h)})});})();
</script>`
  return page(`Pay ${formatAmount(total, currency)} — Checkout (simulated)`, body, status)
}

function initialValues(emulator: Emulator, session: StoredSession): Values {
  // A session made for a Customer starts from what the Customer has: email, name, the
  // shipping address saved by an earlier checkout (customer_update[shipping]=auto).
  const customer = typeof session.customer === 'string' ? emulator.get<Stripe.Customer>(session.customer, 'customer') : undefined
  const saved = customer?.shipping?.address
  const allowed = session.shipping_address_collection?.allowed_countries ?? null
  const savedCountry = saved?.country && allowed?.includes(saved.country as (typeof allowed)[number]) ? saved.country : null
  const country = savedCountry ?? allowed?.[0] ?? (session.automatic_tax.enabled ? (billingCountries(emulator)[0] ?? '') : '')
  return {
    email: session.customer_email ?? session.customer_details?.email ?? customer?.email ?? '',
    name: customer?.shipping?.name ?? customer?.name ?? '',
    line1: saved?.line1 ?? '',
    line2: saved?.line2 ?? '',
    city: saved?.city ?? '',
    state: saved?.state ?? '',
    postal_code: saved?.postal_code ?? '',
    country,
    shipping_rate: String(session.emulator.shippingIndex ?? 0),
    card: '',
    exp: '',
    cvc: '',
    pay_later: false,
    promotion_code: '',
    promotions_consent: session.consent?.promotions === 'opt_in',
  }
}

function notFound(): Response {
  return page('Checkout not found', `<main><section><h1>Checkout not found</h1><p>This checkout link is not valid.</p></section></main>`, 404)
}

export async function checkoutPage(emulator: Emulator, request: Request, id: string): Promise<Response> {
  const method = request.method.toUpperCase()
  if (method !== 'GET' && method !== 'POST') return new Response('Method not allowed', { status: 405, headers: { Allow: 'GET, POST' } })
  if (!emulator.get(id, 'checkout.session')) return notFound()
  const session = emulator.getSession(id)
  if (method === 'GET') return session.status === 'open' ? renderForm(emulator, session, initialValues(emulator, session), {}) : statePage(session)
  if (session.status !== 'open') return statePage(session)

  const form = new URLSearchParams(await request.text())
  const text = (key: keyof Values) => (form.get(key) ?? '').trim()
  const values: Values = {
    email: text('email'),
    name: text('name'),
    line1: text('line1'),
    line2: text('line2'),
    city: text('city'),
    state: text('state'),
    postal_code: text('postal_code'),
    country: text('country').toUpperCase(),
    shipping_rate: text('shipping_rate') || '0',
    card: text('card'),
    exp: text('exp'),
    cvc: text('cvc'),
    pay_later: form.has('pay_later'),
    promotion_code: text('promotion_code'),
    promotions_consent: form.get('promotions_consent') === '1',
  }
  const action = form.get('action')
  // Without its script the page cannot send the address along with a code; keep the default country then.
  if (!values.country && (!session.shipping_address_collection || action === 'apply_code' || action === 'remove_code')) values.country = initialValues(emulator, session).country
  if (action === 'apply_code' || action === 'remove_code') return promotionCodeAction(emulator, id, action, values)
  const errors: Errors = {}
  if (!isEmail(values.email)) errors.email = 'Enter a valid email address.'
  if (!values.name) errors.name = 'Enter your full name.'
  const allowed = session.shipping_address_collection?.allowed_countries ?? null
  if (allowed) {
    if (!values.line1) errors.line1 = 'Enter the first line of your address.'
    if (!values.city) errors.city = 'Enter your city.'
    if (!values.postal_code) errors.postal_code = 'Enter your postal code.'
    if (!allowed.includes(values.country as (typeof allowed)[number])) errors.country = 'Choose a country we ship to.'
  }
  const shippingIndex = Number(values.shipping_rate)
  if (session.shipping_options.length && !(Number.isInteger(shippingIndex) && shippingIndex >= 0 && shippingIndex < session.shipping_options.length)) {
    errors.shipping_rate = 'Choose a shipping method.'
    errors.form = 'Choose a shipping method.'
  }
  if (!values.pay_later && !values.card) errors.card = 'Enter a card number.'
  if (!values.pay_later && values.exp && !isFutureExpiry(values.exp, new Date(emulator.nowMs()))) errors.exp = 'Enter the expiry as MM / YY, not in the past.'
  if (!values.pay_later && values.cvc && !/^\d{3,4}$/.test(values.cvc)) errors.cvc = 'Enter the 3 or 4 digits on the back of the card.'
  if (!allowed && session.automatic_tax.enabled && !/^[A-Z]{2}$/.test(values.country)) errors.country = 'Choose your country.'
  if (Object.keys(errors).length) return renderForm(emulator, session, values, errors, 422)
  const stale = emulator.dropStaleDiscount(id, values.email)
  if (stale) {
    const message = `Your promotion code was removed: ${stale.message} Check the new total before paying.`
    return renderForm(emulator, emulator.getSession(id), { ...values, card: '', exp: '', cvc: '' }, { form: message, promotion_code: stale.message }, 422)
  }

  try {
    const paid = emulator.paySession(id, {
      card: values.card,
      email: values.email,
      name: values.name,
      address: allowed
        ? { line1: values.line1, line2: values.line2, city: values.city, state: values.state, postal_code: values.postal_code, country: values.country }
        : session.automatic_tax.enabled
          ? { country: values.country }
          : null,
      shippingRateIndex: session.shipping_options.length ? shippingIndex : null,
      payLater: values.pay_later,
      promotionsConsent: asksConsent(session) ? values.promotions_consent : null,
    })
    const next = successUrlOf(paid)
    if (!next) return statePage(paid)
    return new Response(null, { status: 303, headers: { Location: next, 'Cache-Control': 'no-store' } })
  } catch (err) {
    if (!(err instanceof ApiError)) throw err
    const current = emulator.getSession(id)
    if (current.status !== 'open') return statePage(current)
    // Keep what the shopper typed, except the card number, as Stripe does after a decline.
    return renderForm(emulator, current, { ...values, card: '', exp: '', cvc: '' }, { form: err.message }, err.status === 402 ? 402 : 422)
  }
}

/** "MM / YY" or "MM/YYYY", this month or later. */
function isFutureExpiry(raw: string, now: Date): boolean {
  const m = /^(0?[1-9]|1[0-2])\s*\/\s*(\d{2}|\d{4})$/.exec(raw.trim())
  if (!m) return false
  const month = Number(m[1])
  const year = m[2]!.length === 2 ? 2000 + Number(m[2]) : Number(m[2])
  return year > now.getUTCFullYear() || (year === now.getUTCFullYear() && month >= now.getUTCMonth() + 1)
}

/** Apply or remove a promotion code, then show the page again with what the shopper typed. */
function promotionCodeAction(emulator: Emulator, id: string, action: 'apply_code' | 'remove_code', values: Values): Response {
  const kept = { ...values, card: '', exp: '', cvc: '' }
  try {
    if (action === 'remove_code') {
      emulator.removePromotionCode(id)
      return renderForm(emulator, emulator.getSession(id), { ...kept, promotion_code: '' }, {})
    }
    if (!values.promotion_code) return renderForm(emulator, emulator.getSession(id), kept, { promotion_code: 'Enter a promotion code.' }, 422)
    const refusal = emulator.applyPromotionCode(id, values.promotion_code, isEmail(values.email) ? values.email : null)
    if (refusal) return renderForm(emulator, emulator.getSession(id), kept, { promotion_code: refusal.message }, 422)
    return renderForm(emulator, emulator.getSession(id), { ...kept, promotion_code: '' }, {})
  } catch (err) {
    if (!(err instanceof ApiError)) throw err
    const current = emulator.getSession(id)
    if (current.status !== 'open') return statePage(current)
    return renderForm(emulator, current, kept, { promotion_code: err.message }, err.status)
  }
}

/** GET /emulator/checkout/:id/quote?country=GB&shipping_rate=1 — the summary's figures, for the page's script. */
export function checkoutQuote(emulator: Emulator, request: Request, id: string): Response {
  const headers = { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' }
  if (request.method.toUpperCase() !== 'GET') return new Response('Method not allowed', { status: 405, headers: { Allow: 'GET' } })
  if (!emulator.get(id, 'checkout.session')) return new Response(JSON.stringify({ error: 'not found' }), { status: 404, headers })
  const session = emulator.getSession(id)
  if (session.status !== 'open') return new Response(JSON.stringify({ error: 'This checkout is no longer open.' }), { status: 410, headers })
  const url = new URL(request.url)
  const values = { ...initialValues(emulator, session), country: (url.searchParams.get('country') ?? '').toUpperCase(), shipping_rate: url.searchParams.get('shipping_rate') ?? '0' }
  const totals = emulator.quote(id, { country: taxCountry(session, values), shippingIndex: selectedShipping(session, values) })
  return new Response(JSON.stringify(summaryFigures(session, totals)), { status: 200, headers })
}

/** What the shopper typed so far (email, the promotions box), saved as they type. */
export async function checkoutDetails(emulator: Emulator, request: Request, id: string): Promise<Response> {
  if (request.method.toUpperCase() !== 'POST') return new Response('Method not allowed', { status: 405, headers: { Allow: 'POST' } })
  if (!emulator.get(id, 'checkout.session')) return notFound()
  const session = emulator.getSession(id)
  if (session.status !== 'open') return new Response(null, { status: 410 })
  const form = new URLSearchParams(await request.text())
  const consent = form.get('promotions_consent')
  emulator.saveDetails(id, { email: form.get('email'), promotionsConsent: consent === null ? null : consent === '1' })
  return new Response(null, { status: 204, headers: { 'Cache-Control': 'no-store' } })
}

/** An expired session's recovery URL: a new session, a copy of it, then its page. */
export function recoverPage(emulator: Emulator, id: string): Response {
  const session = emulator.recoverSession(id)
  if (!session?.url) return page('Checkout link expired', `<main><section><h1>This link has expired</h1><p>Go back to the store to check out again.</p></section></main>`, 404)
  return new Response(null, { status: 303, headers: { Location: session.url, 'Cache-Control': 'no-store' } })
}
