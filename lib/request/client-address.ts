import 'server-only'
import net from 'node:net'
import { headers } from 'next/headers'
import { PEER_HEADER } from '@/server/contract'
import { getEnv } from '@/lib/env'

// Who is asking: the one rule every limiter keys on (checkout starts, look-ups of unknown
// checkouts, admin sign-in, stock holds). X-Forwarded-For is written by whoever sends the
// request, so it is believed only as far as the proxies the owner named in TRUSTED_PROXIES:
// starting from the socket peer, walk the header from the right while the hop is a trusted
// proxy; the first address that is not one is the client. With no trusted proxies (the
// default) the socket peer is the client and the header is ignored.
//
// The socket peer reaches the app in PEER_HEADER, set by the front server
// (server/start.ts) from the connection itself after dropping any copy the client sent, so
// no request can choose it. Without that server (next dev, a route called in a test) the
// peer is unknown.


type HeaderSource = { get(name: string): string | null }

/** A plain address (IPv4-mapped IPv6 as IPv4, lower case), or null when it is not one. */
export function normalize(value: string | null | undefined): string | null {
  const text = (value ?? '').trim().replace(/^\[|\]$/g, '')
  const plain = /^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(text) ? text.slice(7) : text
  return net.isIP(plain) ? plain.toLowerCase() : null
}

const lists = new Map<string, net.BlockList>()

/** The BlockList of `entries` (addresses and address/prefix ranges), built once per list. */
function trustList(entries: readonly string[]): net.BlockList {
  const key = entries.join(',')
  let list = lists.get(key)
  if (!list) {
    list = new net.BlockList()
    for (const entry of entries) {
      const [address = '', prefix] = entry.split('/')
      const type = net.isIP(address) === 6 ? 'ipv6' : 'ipv4'
      if (prefix === undefined) list.addAddress(address, type)
      else list.addSubnet(address, Number(prefix), type)
    }
    lists.set(key, list)
  }
  return list
}

function isTrusted(address: string, entries: readonly string[]): boolean {
  if (entries.length === 0) return false
  return trustList(entries).check(address, net.isIP(address) === 6 ? 'ipv6' : 'ipv4')
}

/**
 * The client's address from the socket peer and X-Forwarded-For, trusting only `trusted`
 * proxies: the rightmost address of the chain (peer last) that is not a trusted proxy. An
 * entry that is not an address ends the walk at the last trusted hop, so garbage written by
 * a client never becomes a fresh bucket. Null when the peer is unknown.
 */
export function resolve(input: { peer: string | null; forwardedFor: string | null; trusted: readonly string[] }): string | null {
  const peer = normalize(input.peer)
  if (!peer) return null
  let client = peer
  if (!isTrusted(peer, input.trusted)) return client
  const hops = (input.forwardedFor ?? '').split(',').map((h) => h.trim()).filter(Boolean)
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = normalize(hops[i])
    if (!hop) return client
    client = hop
    if (!isTrusted(hop, input.trusted)) return client
  }
  return client
}

/** The client address of a request's headers, under this process's TRUSTED_PROXIES. */
export function fromHeaders(h: HeaderSource): string | null {
  return resolve({ peer: h.get(PEER_HEADER), forwardedFor: h.get('x-forwarded-for'), trusted: getEnv().trustedProxies })
}

/** The address of the client making the current request (server actions, routes, pages). */
export async function current(): Promise<string | null> {
  return fromHeaders(await headers())
}

/** The socket peer of a request, as the front server saw it (null when unknown). */
export function peerOf(h: HeaderSource): string | null {
  return normalize(h.get(PEER_HEADER))
}
