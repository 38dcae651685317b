'use client'

// The shop's pages fail inside the shop's frame (this boundary sits under the (shop) layout);
// the page itself is the root one.
export { default } from '../error'
