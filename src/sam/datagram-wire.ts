/**
 * The bytes of SAM repliable datagrams over UDP (pure: no sockets here).
 *
 * To the bridge's UDP port (i2pd: `sam.portudp`, default the TCP port - 1), one datagram per packet:
 *
 *   3.0 <session id> <peer base64 destination>\n<payload>
 *
 * From the bridge to the session's HOST:PORT forward (SESSION CREATE STYLE=DATAGRAM … HOST= PORT=):
 *
 *   <sender base64 destination>\n<payload>
 *
 * i2pd has checked the sender's signature over the payload before it forwards a DATAGRAM: the sender
 * destination is authentic. Anything that is not exactly that shape is refused with ERR_SAM_PROTOCOL.
 */
import { MAX_SAM_DATAGRAM_PAYLOAD_BYTES } from '../constants.js'
import { PRouterError } from '../errors.js'
import { b32FromDestination } from '../i2p/index.js'

export interface ReceivedDatagram {
  /** The sender's public destination, I2P base64, as the bridge verified it. */
  readonly destination: string
  readonly b32: string
  readonly payload: Buffer
}

/** Longest sender header accepted (a destination with a large certificate is still far below). */
export const MAX_DATAGRAM_HEADER_BYTES = 2048
const LF = 0x0a
const SESSION_ID = /^[A-Za-z0-9._-]{1,64}$/
const BASE64_DESTINATION = /^[A-Za-z0-9~-]+={0,2}$/

/** The packet that asks the bridge to send `payload` from session `id` to `destination`. */
export function encodeDatagramSend(id: string, destination: string, payload: Uint8Array): Buffer {
  if (!SESSION_ID.test(id)) throw invalid('session id must be 1..64 characters of A-Z a-z 0-9 . _ -')
  if (!BASE64_DESTINATION.test(destination) || destination.length > MAX_DATAGRAM_HEADER_BYTES) {
    throw invalid('destination must be a full I2P base64 destination (look a b32 up first)')
  }
  if (payload.length > MAX_SAM_DATAGRAM_PAYLOAD_BYTES) {
    throw new PRouterError(
      'ERR_SAM_DATAGRAM_TOO_LARGE',
      `datagram payload of ${payload.length} bytes exceeds ${MAX_SAM_DATAGRAM_PAYLOAD_BYTES}`,
      { detail: { bytes: payload.length, max: MAX_SAM_DATAGRAM_PAYLOAD_BYTES } },
    )
  }
  return Buffer.concat([Buffer.from(`3.0 ${id} ${destination}\n`, 'latin1'), payload])
}

/** A packet the bridge forwarded: the sender line, then the payload (which may hold any byte, LF too). */
export function decodeForwardedDatagram(packet: Buffer): ReceivedDatagram {
  const end = packet.indexOf(LF)
  if (end === -1 || end > MAX_DATAGRAM_HEADER_BYTES) throw malformed('no sender line', packet)
  const destination = packet.toString('latin1', 0, end)
  if (!BASE64_DESTINATION.test(destination)) throw malformed('sender is not I2P base64', packet)
  let b32: string
  try {
    b32 = b32FromDestination(destination)
  } catch (err) {
    throw malformed('sender is not a destination', packet, err)
  }
  return { destination, b32, payload: packet.subarray(end + 1) }
}

function invalid(why: string): PRouterError {
  return new PRouterError('ERR_INVALID_ARGUMENT', `SAM datagram: ${why}`)
}

function malformed(why: string, packet: Buffer, cause?: unknown): PRouterError {
  return new PRouterError('ERR_SAM_PROTOCOL', `SAM forwarded datagram does not parse: ${why}`, {
    cause,
    detail: { bytes: packet.length },
  })
}
