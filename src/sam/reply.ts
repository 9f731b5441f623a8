import { PRouterError } from '../errors.js'

/**
 * Pure parsing of one SAM line (framing has already removed the line ending).
 *
 *   HELLO REPLY RESULT=OK VERSION=3.3
 *   STREAM STATUS RESULT=CANT_REACH_PEER MESSAGE="LeaseSet not found"
 *   ^topic ^verb  ^KEY=VALUE pairs, split at the FIRST '=' (base64 destinations end in '==')
 *
 * Double quotes group a value holding spaces; inside quotes a backslash escapes the next character.
 * A key without '=' gets the value '', except the bare words after an unquoted MESSAGE=, which i2pd
 * sends unquoted at times and which belong to it. Nothing but PRouterError ERR_SAM_PROTOCOL is thrown.
 */

export interface SamReply {
  readonly topic: string
  readonly verb: string
  readonly values: Readonly<Record<string, string>>
  /** The line as received, for error details (redact it with `redactSecrets` before logging). */
  readonly raw: string
}

/** The line a bridge sends on an accepted stream before the peer's data: `$destination [KEY=VALUE…]`. */
export interface PeerLine {
  readonly destination: string
  readonly values: Readonly<Record<string, string>>
  readonly raw: string
}

interface Token {
  readonly key: string
  /** undefined when the token holds no unquoted '='. */
  readonly value: string | undefined
  readonly quoted: boolean
}

export function parseReply(line: string): SamReply {
  const tokens = tokenize(line)
  const [first, second] = tokens
  if (first === undefined) throw protocolError('empty line', line)
  if (!isWord(first)) throw protocolError('line does not start with a topic word', line)
  const hasVerb = second !== undefined && isWord(second)
  const pairs = tokens.slice(hasVerb ? 2 : 1)
  return {
    topic: first.key,
    verb: hasVerb ? second.key : '',
    values: toValues(pairs, line),
    raw: line,
  }
}

export function parsePeerLine(line: string): PeerLine {
  const trimmed = line.trim()
  const space = trimmed.search(/[ \t]/)
  const destination = space === -1 ? trimmed : trimmed.slice(0, space)
  if (destination === '') throw protocolError('empty peer line', line)
  const rest = space === -1 ? [] : tokenize(trimmed.slice(space))
  return { destination, values: toValues(rest, line), raw: line }
}

const SECRET_KEY = /^(?:PRIV|DESTINATION)$|priv|secret|password/i

/** Replace private keys (SESSION … DESTINATION=, DEST REPLY PRIV=, …) by `<redacted>` for logs and errors. */
export function redactSecrets(line: string): string {
  if (!/^\s*(?:SESSION|DEST)\b/.test(line)) return line
  return line.replace(/([^\s="]+)=("(?:[^"\\]|\\.)*"?|\S*)/g, (pair, key: string) =>
    SECRET_KEY.test(key) ? `${key}=<redacted>` : pair,
  )
}

function isWord(token: Token): boolean {
  return token.value === undefined && !token.quoted && token.key !== ''
}

function toValues(tokens: readonly Token[], line: string): Record<string, string> {
  const entries: [string, string][] = []
  let message: [string, string] | undefined
  for (const token of tokens) {
    if (token.key === '') throw protocolError('empty key', line)
    if (message !== undefined && isWord(token)) {
      message[1] += ` ${token.key}` // i2pd writes some messages unquoted: MESSAGE=Socket already in use
      continue
    }
    const entry: [string, string] = [token.key, token.value ?? '']
    message = token.key === 'MESSAGE' && !token.quoted ? entry : undefined
    entries.push(entry)
  }
  // fromEntries defines own properties: a key such as "__proto__" cannot touch the prototype.
  return Object.fromEntries(entries)
}

function tokenize(line: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  while (i < line.length) {
    if (isBlank(line, i)) {
      i++
      continue
    }
    const [token, next] = readToken(line, i)
    tokens.push(token)
    i = next
  }
  return tokens
}

function readToken(line: string, start: number): [Token, number] {
  let key = ''
  let value: string | undefined
  let quoted = false
  let inQuote = false
  let i = start
  for (; i < line.length && (inQuote || !isBlank(line, i)); i++) {
    let char = line.charAt(i)
    if (char === '"') {
      inQuote = !inQuote
      quoted = true
      continue
    }
    if (inQuote && char === '\\' && i + 1 < line.length) char = line.charAt(++i)
    else if (!inQuote && char === '=' && value === undefined) {
      value = ''
      continue
    }
    if (value === undefined) key += char
    else value += char
  }
  if (inQuote) throw protocolError('unterminated quote', line)
  return [{ key, value, quoted }, i]
}

function isBlank(line: string, i: number): boolean {
  const char = line.charAt(i)
  return char === ' ' || char === '\t'
}

function protocolError(why: string, line: string): PRouterError {
  return new PRouterError('ERR_SAM_PROTOCOL', `SAM reply does not parse: ${why}`, {
    detail: { raw: redactSecrets(line) },
  })
}
