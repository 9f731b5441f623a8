/**
 * An HTTP exchange carried over datagrams (docs/messages.md, "Requests over datagrams"): the request is the
 * payload of a signed envelope of kind 'request' (envelope.ts); its answer comes back in one ANSWER frame
 * (frames.ts), or, when the service's response is longer than one frame takes, as a token under which the
 * callee holds it for the caller to fetch over a stream (ANSWER_PATH).
 *
 *   request  head length (u16 BE) | head: JSON { method, target, headers: [[name, value], …] } | body
 *   answer   head length (u16 BE) | head: JSON { status, headers: [[name, value], …], parked? } | body
 *
 * Header names are lower-case HTTP tokens, values without CR, LF or NUL; anything else is refused
 * (ERR_MESSAGE_MALFORMED) before it could reach a service.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http'
import { PRouterError } from '../errors.js'

/** Where a caller fetches a parked answer: `${ANSWER_PATH}<token>`, over a stream to the callee. */
export const ANSWER_PATH = '/.prouter/answers/'
/** A parked answer's token: 32 lower-case hex digits. */
export const ANSWER_TOKEN = /^[0-9a-f]{32}$/

export type HeaderPairs = Array<[string, string]>

export interface WireRequest {
  method: string
  /** Path and query, starting with '/'. */
  target: string
  headers: HeaderPairs
  body: Buffer
}

export interface WireAnswer {
  status: number
  headers: HeaderPairs
  body: Buffer
  /** The response was too long for one frame: fetch it over a stream with this token (body empty). */
  parked?: string
}

const TOKEN_CHARS = /^[!#$%&'*+.^_`|~0-9a-z-]{1,64}$/
const METHOD = /^[A-Z]{1,16}$/
const BAD_VALUE = /[\r\n\0]/

export function encodeRequest(r: WireRequest): Buffer {
  return withHead({ method: r.method, target: r.target, headers: r.headers }, r.body)
}

export function encodeWireAnswer(a: WireAnswer): Buffer {
  const head = {
    status: a.status,
    headers: a.headers,
    ...(a.parked === undefined ? {} : { parked: a.parked }),
  }
  return withHead(head, a.body)
}

export function decodeRequest(bytes: Buffer): WireRequest {
  const { head, body } = split(bytes)
  const { method, target, headers } = head
  if (typeof method !== 'string' || !METHOD.test(method)) throw malformed('method')
  if (typeof target !== 'string' || !target.startsWith('/') || BAD_VALUE.test(target) || target.includes(' '))
    throw malformed('target')
  return { method, target, headers: headerPairs(headers), body }
}

export function decodeWireAnswer(bytes: Buffer): WireAnswer {
  const { head, body } = split(bytes)
  const { status, headers, parked } = head
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 100 || status > 599)
    throw malformed('status')
  if (parked !== undefined && (typeof parked !== 'string' || !ANSWER_TOKEN.test(parked)))
    throw malformed('parked token')
  return { status, headers: headerPairs(headers), body, ...(parked === undefined ? {} : { parked }) }
}

/** Node's header object as pairs (a repeated header: one pair per value). */
export function toPairs(headers: OutgoingHttpHeaders | IncomingHttpHeaders): HeaderPairs {
  const pairs: HeaderPairs = []
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue
    for (const v of Array.isArray(value) ? value : [value]) pairs.push([name, String(v)])
  }
  return pairs
}

/** Pairs as Node's header object (repeated names: an array; set-cookie always one). */
export function fromPairs(pairs: HeaderPairs): IncomingHttpHeaders {
  const out: Record<string, string | string[]> = {}
  for (const [name, value] of pairs) {
    const had = out[name]
    if (had === undefined) out[name] = name === 'set-cookie' ? [value] : value
    else out[name] = Array.isArray(had) ? [...had, value] : `${had}, ${value}`
  }
  return out
}

function withHead(head: object, body: Buffer): Buffer {
  const json = Buffer.from(JSON.stringify(head))
  if (json.length > 0xffff) throw new PRouterError('ERR_HEADERS_TOO_LARGE', 'headers over 64 KiB')
  const length = Buffer.alloc(2)
  length.writeUInt16BE(json.length)
  return Buffer.concat([length, json, body])
}

function split(bytes: Buffer): { head: Record<string, unknown>; body: Buffer } {
  if (bytes.length < 2) throw malformed('shorter than its head length')
  const end = 2 + bytes.readUInt16BE(0)
  if (end > bytes.length) throw malformed('shorter than its head')
  let head: unknown
  try {
    head = JSON.parse(bytes.toString('utf8', 2, end))
  } catch {
    throw malformed('head is not JSON')
  }
  if (typeof head !== 'object' || head === null || Array.isArray(head)) throw malformed('head is no object')
  return { head: head as Record<string, unknown>, body: bytes.subarray(end) }
}

function headerPairs(value: unknown): HeaderPairs {
  if (!Array.isArray(value)) throw malformed('headers')
  return value.map((pair: unknown) => {
    if (!Array.isArray(pair) || pair.length !== 2) throw malformed('a header is no [name, value] pair')
    const [name, v] = pair as unknown[]
    if (typeof name !== 'string' || !TOKEN_CHARS.test(name)) throw malformed('header name')
    if (typeof v !== 'string' || BAD_VALUE.test(v)) throw malformed(`header ${name}`)
    return [name, v]
  })
}

function malformed(what: string): PRouterError {
  return new PRouterError('ERR_MESSAGE_MALFORMED', `request over datagrams: bad ${what}`)
}
