import { SAM_MAX_VERSION, SAM_MIN_VERSION } from '../constants.js'
import { PRouterError } from '../errors.js'

/**
 * The one serializer every SAM command goes through. Nothing from a caller (an API request, a proxy Host
 * header, an option value) can add a line or a pair to a command: keys and values holding CR, LF, NUL,
 * any other control character or a double quote are refused, keys holding a space or '=' are refused,
 * and a value holding a space is sent quoted — and refused if it also holds '=' (i2pd ignores quotes
 * and splits at every space, so the part after the space would become a pair) or a backslash (bridges
 * differ on escapes).
 */

export type SamValue = string | number | boolean | undefined

/** A serialized command and the reply topic/verb that answers it. Built only by the builders below. */
export interface SamCommand {
  /** The wire bytes, '\n'-terminated. May hold a private key: log `redactSecrets(line)` only. */
  readonly line: string
  readonly expect: { readonly topic: string; readonly verb: string }
}

/** C0 controls (CR, LF, NUL, TAB, …) and DEL. */
function hasControlChar(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code < 0x20 || code === 0x7f) return true
  }
  return false
}

function isUnsafeValue(value: string): boolean {
  return hasControlChar(value) || value.includes('"')
}

function isUnsafeKey(key: string): boolean {
  return isUnsafeValue(key) || key.includes(' ') || key.includes('=')
}

export function formatCommand(
  topic: string,
  verb: string,
  values: Readonly<Record<string, SamValue>> = {},
): string {
  const words = [checkWord(topic, 'topic'), ...(verb === '' ? [] : [checkWord(verb, 'verb')])]
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined) continue
    words.push(`${checkKey(key, topic)}=${formatValue(key, String(value), topic)}`)
  }
  return `${words.join(' ')}\n`
}

/** HELLO VERSION MIN=3.1 MAX=3.3\n  ->  HELLO REPLY RESULT=OK VERSION=3.3 */
export function helloCommand(min = SAM_MIN_VERSION, max = SAM_MAX_VERSION): SamCommand {
  return build('HELLO', 'VERSION', { MIN: min, MAX: max }, 'REPLY')
}

export interface SessionCreateArgs {
  id: string
  /** Private key (I2P base64) or 'TRANSIENT'. */
  destination: string
  signatureType: number
  /** i2cp./inbound./outbound./i2p.streaming. options, already validated. */
  options: Readonly<Record<string, string>>
}

/**
 * SESSION CREATE STYLE=STREAM ID=<id> DESTINATION=<private key|TRANSIENT> SIGNATURE_TYPE=7
 *                [inbound.length=3 inbound.quantity=3 inbound.lengthVariance=0 … i2cp.*=…]\n
 *   ->  SESSION STATUS RESULT=OK DESTINATION=<private key>
 */
export function sessionCreateCommand(args: SessionCreateArgs): SamCommand {
  const values = {
    STYLE: 'STREAM',
    ID: args.id,
    DESTINATION: args.destination,
    SIGNATURE_TYPE: args.signatureType,
    ...args.options,
  }
  return build('SESSION', 'CREATE', values, 'STATUS')
}

/**
 * SESSION CREATE STYLE=DATAGRAM ID=<id> DESTINATION=<private key|TRANSIENT> SIGNATURE_TYPE=7
 *                HOST=<udp host> PORT=<udp port> [inbound.length=3 … i2cp.*=…]\n
 *   ->  SESSION STATUS RESULT=OK DESTINATION=<private key>
 * Every datagram for the session is then forwarded over UDP to HOST:PORT as `<sender base64>\n<payload>`.
 * i2pd reads PORT unconditionally for a DATAGRAM session (and fails without it), so it is always sent.
 */
export function datagramSessionCreateCommand(
  args: SessionCreateArgs & { forward: { host: string; port: number } },
): SamCommand {
  const values = {
    STYLE: 'DATAGRAM',
    ID: args.id,
    DESTINATION: args.destination,
    SIGNATURE_TYPE: args.signatureType,
    HOST: args.forward.host,
    PORT: args.forward.port,
    ...args.options,
  }
  return build('SESSION', 'CREATE', values, 'STATUS')
}

/**
 * STREAM CONNECT ID=<id> DESTINATION=<base64 destination|b32> SILENT=false\n
 *   ->  STREAM STATUS RESULT=OK, then the socket carries the stream's raw bytes
 */
export function streamConnectCommand(id: string, destination: string): SamCommand {
  return build('STREAM', 'CONNECT', { ID: id, DESTINATION: destination, SILENT: false }, 'STATUS')
}

/**
 * STREAM ACCEPT ID=<id> SILENT=false\n
 *   ->  STREAM STATUS RESULT=OK
 *   ->  <peer base64 destination> [FROM_PORT=0 TO_PORT=0]   (when a peer connects; ports from SAM 3.2)
 *   then the socket carries the stream's raw bytes
 */
export function streamAcceptCommand(id: string): SamCommand {
  return build('STREAM', 'ACCEPT', { ID: id, SILENT: false }, 'STATUS')
}

/** NAMING LOOKUP NAME=<name|ME|….b32.i2p>\n  ->  NAMING REPLY RESULT=OK NAME=<name> VALUE=<base64 destination> */
export function namingLookupCommand(name: string): SamCommand {
  return build('NAMING', 'LOOKUP', { NAME: name }, 'REPLY')
}

/** DEST GENERATE SIGNATURE_TYPE=7\n  ->  DEST REPLY PUB=<base64 destination> PRIV=<base64 private key> */
export function destGenerateCommand(signatureType: number): SamCommand {
  return build('DEST', 'GENERATE', { SIGNATURE_TYPE: signatureType }, 'REPLY')
}

/**
 * PONG <text>\n  — the answer to a bridge's `PING <text>`; the only line that is not KEY=VALUE pairs.
 * The text comes from the bridge's own line, so it holds no line break; it is checked all the same.
 */
export function formatPong(text: string): string {
  if (hasControlChar(text)) throw unsafe('PONG', 'the text', 'a control character')
  return text === '' ? 'PONG\n' : `PONG ${text}\n`
}

function build(topic: string, verb: string, values: Record<string, SamValue>, replyVerb: string): SamCommand {
  return { line: formatCommand(topic, verb, values), expect: { topic, verb: replyVerb } }
}

function checkWord(word: string, what: string): string {
  if (!/^[A-Za-z0-9_]+$/.test(word)) {
    throw unsafe(
      JSON.stringify(word.slice(0, 32)),
      `the ${what}`,
      'characters other than letters, digits and _',
    )
  }
  return word
}

function checkKey(key: string, topic: string): string {
  if (key === '') throw unsafe(topic, 'a key', 'nothing: keys may not be empty', key)
  if (isUnsafeKey(key)) {
    const name = JSON.stringify(key.slice(0, 64))
    throw unsafe(topic, `key ${name}`, 'a space, "=", a quote or a control character', key)
  }
  return key
}

function formatValue(key: string, value: string, topic: string): string {
  if (isUnsafeValue(value)) {
    throw unsafe(topic, `the value of ${key}`, 'CR, LF, NUL, another control character or a quote', key)
  }
  if (!value.includes(' ')) return value
  // i2pd splits a command at every space and ignores quotes (SAMSocket::ExtractParams): the part after
  // a space would be read as a pair of its own if it held '='. Java I2P honours the quotes.
  if (value.includes('=')) throw unsafe(topic, `the value of ${key}`, 'a space and "="', key)
  // Bridges differ on backslash escapes inside quotes: refuse rather than guess.
  if (value.includes('\\')) throw unsafe(topic, `the value of ${key}`, 'a backslash and a space', key)
  return `"${value}"`
}

function unsafe(topic: string, what: string, holds: string, key?: string): PRouterError {
  return new PRouterError('ERR_SAM_UNSAFE_VALUE', `SAM ${topic}: ${what} holds ${holds}`, {
    detail: key === undefined ? { topic } : { topic, key },
  })
}
