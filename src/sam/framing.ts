import { DEFAULT_SAM_MAX_LINE_BYTES } from '../constants.js'
import { invalidOption, PRouterError } from '../errors.js'

/**
 * Bytes -> lines. SAM control traffic is '\n'-terminated text; a chunk from the socket may hold part of
 * a line, several lines, or a line followed by raw stream data. The framer keeps what it has not yet
 * returned, so a caller that switches to raw data after a line can take the exact bytes that followed it.
 */

const LF = 0x0a
const CR = 0x0d
const EMPTY: Buffer = Buffer.alloc(0)

export interface LineFramerInit {
  /** Longest line accepted, in bytes before its '\n' (default DEFAULT_SAM_MAX_LINE_BYTES). */
  maxLineBytes?: number
}

export interface LineFramer {
  /** Append a chunk and return every line now complete (without '\n' and a trailing '\r'). */
  push(chunk: Buffer): string[]
  /** Append a chunk without splitting it; take lines one at a time with `nextLine()`. */
  append(chunk: Buffer): void
  /** The next complete line, or undefined until one is complete. Throws ERR_SAM_LINE_TOO_LONG. */
  nextLine(): string | undefined
  /** The bytes after the last line returned; empties the framer (for a switch to raw data). */
  takeRemainder(): Buffer
  /** Bytes held and not yet returned as a line. */
  readonly bufferedBytes: number
}

export function createLineFramer(init: LineFramerInit = {}): LineFramer {
  const maxLineBytes = init.maxLineBytes ?? DEFAULT_SAM_MAX_LINE_BYTES
  if (!Number.isSafeInteger(maxLineBytes) || maxLineBytes < 1) {
    throw invalidOption('maxLineBytes', `must be a positive integer, got ${String(maxLineBytes)}`)
  }
  let buffer = EMPTY
  /** Bytes at the start of `buffer` already searched for LF without success. */
  let scanned = 0

  function tooLong(length: number): PRouterError {
    buffer = EMPTY
    scanned = 0
    return new PRouterError(
      'ERR_SAM_LINE_TOO_LONG',
      `SAM line of at least ${length} bytes exceeds the maximum of ${maxLineBytes} bytes`,
      { detail: { maxLineBytes, length } },
    )
  }

  function append(chunk: Buffer): void {
    if (chunk.length === 0) return
    buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk])
  }

  function nextLine(): string | undefined {
    const end = buffer.indexOf(LF, scanned)
    if (end === -1) {
      scanned = buffer.length
      if (buffer.length > maxLineBytes) throw tooLong(buffer.length)
      return undefined
    }
    if (end > maxLineBytes) throw tooLong(end)
    const lineEnd = end > 0 && buffer[end - 1] === CR ? end - 1 : end
    const line = buffer.toString('utf8', 0, lineEnd)
    buffer = end + 1 === buffer.length ? EMPTY : buffer.subarray(end + 1)
    scanned = 0
    return line
  }

  function push(chunk: Buffer): string[] {
    append(chunk)
    const lines: string[] = []
    for (let line = nextLine(); line !== undefined; line = nextLine()) lines.push(line)
    return lines
  }

  function takeRemainder(): Buffer {
    const rest = buffer
    buffer = EMPTY
    scanned = 0
    return rest
  }

  return {
    push,
    append,
    nextLine,
    takeRemainder,
    get bufferedBytes() {
      return buffer.length
    },
  }
}
