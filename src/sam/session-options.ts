import { randomBytes } from 'node:crypto'
import {
  DEFAULT_SAM_SESSION_CREATE_TIMEOUT,
  DEFAULT_SIGNATURE_TYPE,
  DEFAULT_TUNNEL_LENGTH,
  DEFAULT_TUNNEL_LENGTH_VARIANCE,
  DEFAULT_TUNNEL_QUANTITY,
  MAX_TUNNEL_LENGTH,
  MAX_TUNNEL_LENGTH_VARIANCE,
  MAX_TUNNEL_QUANTITY,
} from '../constants.js'
import { invalidOption } from '../errors.js'
import { sessionCreateCommand, type SamCommand, type SessionCreateArgs } from './command.js'
import { publicDestinationFromPrivate } from '../i2p/index.js'
import { checkTimeout } from '../signals.js'
import { validateSamAddress, type SamAddress } from './tcp-connect.js'

/** Eager validation of a session's init: every option is checked and named before any I/O. */

export interface TunnelOptions {
  /** Hops, 0..7 (default 3). */
  length?: number
  /** Tunnels, 1..16 (default 3). */
  quantity?: number
  /** -7..7; pinned to 0 unless given, so tunnels are never silently shorter than `length`. */
  lengthVariance?: number
  /** Standby tunnels, 0..16 (left to the router unless given). */
  backupQuantity?: number
}

export interface SamSessionInit {
  sam: SamAddress
  /** SAM session id (nickname); default a random `prouter-…`. */
  id?: string
  /** Private key, I2P base64; default 'TRANSIENT' (the bridge makes a new one). */
  destination?: string
  /** Default 7 (Ed25519-SHA512). */
  signatureType?: number
  tunnels?: { inbound?: TunnelOptions; outbound?: TunnelOptions }
  /** Extra i2cp./i2p.streaming./inbound./outbound. options, passed through the serializer. */
  options?: Record<string, string>
  /** Deadline for SESSION CREATE, in ms (default DEFAULT_SAM_SESSION_CREATE_TIMEOUT). */
  createTimeout?: number
}

export interface ResolvedSessionInit {
  readonly sam: SamAddress
  readonly id: string
  readonly signatureType: number
  readonly createTimeout: number
  /** The SESSION CREATE command; its line may hold the private key. */
  readonly command: SamCommand
}

type Range = readonly [min: number, max: number]

const TUNNEL_RANGES: Readonly<Record<keyof TunnelOptions, Range>> = {
  length: [0, MAX_TUNNEL_LENGTH],
  quantity: [1, MAX_TUNNEL_QUANTITY],
  lengthVariance: [-MAX_TUNNEL_LENGTH_VARIANCE, MAX_TUNNEL_LENGTH_VARIANCE],
  backupQuantity: [0, MAX_TUNNEL_QUANTITY],
}

const INIT_KEYS = new Set([
  'sam',
  'id',
  'destination',
  'signatureType',
  'tunnels',
  'options',
  'createTimeout',
])
const ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/

export function resolveSessionInit(init: SamSessionInit): ResolvedSessionInit {
  const { args, createTimeout } = resolveSessionArgs(init)
  const command = sessionCreateCommand(args)
  return { sam: init.sam, id: args.id, signatureType: args.signatureType, createTimeout, command }
}

/** The validated parts of a SESSION CREATE, whatever its style. */
export function resolveSessionArgs(init: SamSessionInit): { args: SessionCreateArgs; createTimeout: number } {
  checkKnownKeys(init, INIT_KEYS, '')
  validateSamAddress(init.sam)
  const id = init.id ?? `prouter-${randomBytes(6).toString('hex')}`
  if (!ID_PATTERN.test(id)) throw invalidOption('id', 'must be 1..64 characters of A-Z a-z 0-9 . _ -')
  const destination = checkPrivateKey(init.destination ?? 'TRANSIENT')
  const signatureType = init.signatureType ?? DEFAULT_SIGNATURE_TYPE
  checkInteger(signatureType, 'signatureType', [0, 0xffff])
  const createTimeout = checkTimeout(init.createTimeout, 'createTimeout', DEFAULT_SAM_SESSION_CREATE_TIMEOUT)
  const tunnels = {
    ...tunnelOptions('inbound', init.tunnels?.inbound),
    ...tunnelOptions('outbound', init.tunnels?.outbound),
  }
  const options = { ...tunnels, ...extraOptions(init.options ?? {}, tunnels) }
  return { args: { id, destination, signatureType, options }, createTimeout }
}

function tunnelOptions(direction: 'inbound' | 'outbound', given: TunnelOptions = {}): Record<string, string> {
  checkKnownKeys(given, new Set(Object.keys(TUNNEL_RANGES)), `tunnels.${direction}.`)
  const values: TunnelOptions = {
    length: given.length ?? DEFAULT_TUNNEL_LENGTH,
    quantity: given.quantity ?? DEFAULT_TUNNEL_QUANTITY,
    lengthVariance: given.lengthVariance ?? DEFAULT_TUNNEL_LENGTH_VARIANCE,
    backupQuantity: given.backupQuantity,
  }
  const out: Record<string, string> = {}
  for (const [key, range] of Object.entries(TUNNEL_RANGES)) {
    const value = values[key as keyof TunnelOptions]
    if (value === undefined) continue
    checkInteger(value, `tunnels.${direction}.${key}`, range)
    out[`${direction}.${key}`] = String(value)
  }
  return out
}

/**
 * The session option that caps how many packets one stream keeps unacknowledged (`i2p.streaming.maxWindowSize`:
 * read by i2pd >= 2.58, ignored before; see DEFAULT_MAX_STREAM_WINDOW).
 */
export function streamWindowOptions(packets: number): Record<string, string> {
  return { 'i2p.streaming.maxWindowSize': String(packets) }
}

function extraOptions(
  options: Record<string, string>,
  tunnels: Record<string, string>,
): Record<string, string> {
  for (const [key, value] of Object.entries(options)) {
    const name = `options.${key}`
    if (typeof value !== 'string') throw invalidOption(name, 'must be a string')
    if (!key.includes('.'))
      throw invalidOption(name, 'is not an i2cp./i2p.streaming./inbound./outbound. option')
    if (Object.hasOwn(tunnels, key)) throw invalidOption(name, `set it through tunnels.${key}`)
  }
  return options
}

function checkPrivateKey(destination: string): string {
  if (destination === 'TRANSIENT') return destination
  try {
    publicDestinationFromPrivate(destination)
  } catch (err) {
    const why = err instanceof Error ? err.message : 'does not parse'
    throw invalidOption('destination', `must be 'TRANSIENT' or an I2P base64 private key (${why})`)
  }
  return destination
}

function checkInteger(value: unknown, name: string, [min, max]: Range): void {
  if (!Number.isInteger(value) || (value as number) < min || (value as number) > max) {
    throw invalidOption(name, `must be an integer in ${min}..${max}, got ${String(value)}`)
  }
}

function checkKnownKeys(object: object, known: ReadonlySet<string>, prefix: string): void {
  for (const key of Object.keys(object)) {
    if (!known.has(key)) throw invalidOption(`${prefix}${key}`, 'is not a known option')
  }
}
