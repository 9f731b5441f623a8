/**
 * Bulk transfer over one byte stream (a loopback TCP socket or a raw SAM stream), checked by sha256 end to
 * end. The serving side holds the payload and answers commands, any number per stream:
 *
 *   'P'                                        -> 'P'                      (a round trip: warms a fresh stream)
 *   'U' | length u64be | length bytes          -> sha256 of those bytes (32 bytes)
 *   'D' | offset u64be | length u64be          -> payload[offset, offset + length)
 *
 * The client times an upload from its first byte written to the digest read, a download from the command
 * written to the last byte read.
 */
import { createHash } from 'node:crypto'
import { once } from 'node:events'
import type { Duplex, Writable } from 'node:stream'

const PING = 0x50 // 'P'
const UPLOAD = 0x55 // 'U'
const DOWNLOAD = 0x44 // 'D'
const DIGEST_BYTES = 32
/** Largest write the sender makes at once; a read side holds at most this much more than it asked for. */
export const WRITE_CHUNK = 64 * 1024
const HIGH_WATER = 1024 * 1024

/** Reads pulled from a stream: `exactly(n)` or up to `max` at a time, pausing the stream while a backlog waits. */
export class PullReader {
  readonly #stream: Duplex
  readonly #chunks: Buffer[] = []
  #buffered = 0
  #done: Error | undefined
  #wake: (() => void) | undefined

  constructor(stream: Duplex) {
    this.#stream = stream
    stream.on('data', (chunk: Buffer) => {
      this.#chunks.push(chunk)
      this.#buffered += chunk.length
      if (this.#buffered > HIGH_WATER) stream.pause()
      this.#notify()
    })
    const finish = (err?: unknown): void => {
      this.#done ??= err instanceof Error ? err : new Error('stream ended')
      this.#notify()
    }
    stream.once('end', finish)
    stream.once('close', finish)
    stream.once('error', finish)
  }

  /** At least one and at most `max` bytes; rejects once the stream has ended with nothing buffered. */
  async take(max: number): Promise<Buffer> {
    while (this.#buffered === 0) {
      if (this.#done !== undefined) throw this.#done
      await new Promise<void>((resolve) => (this.#wake = resolve))
    }
    const first = this.#chunks[0] as Buffer
    const out = first.length <= max ? first : first.subarray(0, max)
    if (out === first) this.#chunks.shift()
    else this.#chunks[0] = first.subarray(max)
    this.#buffered -= out.length
    if (this.#buffered <= HIGH_WATER && this.#stream.isPaused()) this.#stream.resume()
    return out
  }

  async exactly(n: number): Promise<Buffer> {
    const parts: Buffer[] = []
    for (let got = 0; got < n;) {
      const part = await this.take(n - got)
      parts.push(part)
      got += part.length
    }
    return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts)
  }

  #notify(): void {
    const wake = this.#wake
    this.#wake = undefined
    wake?.()
  }
}

/** Serve commands on `stream` until it ends (errors end it quietly: the client reports what it saw). */
export function serveBulk(stream: Duplex, payload: Buffer): void {
  stream.on('error', () => undefined)
  const reader = new PullReader(stream)
  void serveLoop(stream, reader, payload).catch(() => stream.destroy())
}

async function serveLoop(stream: Duplex, reader: PullReader, payload: Buffer): Promise<void> {
  for (;;) {
    const command = (await reader.exactly(1))[0]
    if (command === PING) {
      stream.write(Buffer.of(PING))
    } else if (command === UPLOAD) {
      const length = Number((await reader.exactly(8)).readBigUInt64BE(0))
      stream.write(await digestOf(reader, length))
    } else if (command === DOWNLOAD) {
      const head = await reader.exactly(16)
      const offset = Number(head.readBigUInt64BE(0))
      await writeAll(stream, payload.subarray(offset, offset + Number(head.readBigUInt64BE(8))))
    } else {
      stream.destroy()
      return
    }
  }
}

/** A client's side of one stream. */
export interface BulkConn {
  readonly stream: Duplex
  readonly reader: PullReader
}

export function bulkConn(stream: Duplex): BulkConn {
  stream.on('error', () => undefined)
  return { stream, reader: new PullReader(stream) }
}

export async function ping(conn: BulkConn): Promise<void> {
  conn.stream.write(Buffer.of(PING))
  await conn.reader.exactly(1)
}

/** Send `body`; throws unless the server's digest matches. Resolves with the elapsed ms. */
export async function upload(conn: BulkConn, body: Buffer): Promise<number> {
  const head = Buffer.alloc(9)
  head[0] = UPLOAD
  head.writeBigUInt64BE(BigInt(body.length), 1)
  const t0 = performance.now()
  const answer = conn.reader.exactly(DIGEST_BYTES)
  answer.catch(() => undefined) // awaited below; a failed write must not leave it unhandled
  conn.stream.write(head)
  await writeAll(conn.stream, body)
  const digest = await answer
  const ms = performance.now() - t0
  if (!digest.equals(sha256(body))) throw new Error(`upload of ${body.length} bytes: sha256 mismatch`)
  return ms
}

/** Fetch `payload[offset, offset + length)`; throws unless its sha256 matches. Resolves with the elapsed ms. */
export async function download(
  conn: BulkConn,
  payload: Buffer,
  offset: number,
  length: number,
): Promise<number> {
  const head = Buffer.alloc(17)
  head[0] = DOWNLOAD
  head.writeBigUInt64BE(BigInt(offset), 1)
  head.writeBigUInt64BE(BigInt(length), 9)
  const t0 = performance.now()
  conn.stream.write(head)
  const digest = await digestOf(conn.reader, length)
  const ms = performance.now() - t0
  if (!digest.equals(sha256(payload.subarray(offset, offset + length)))) {
    throw new Error(`download of ${length} bytes at ${offset}: sha256 mismatch`)
  }
  return ms
}

async function digestOf(reader: PullReader, length: number): Promise<Buffer> {
  const hash = createHash('sha256')
  for (let left = length; left > 0;) {
    const chunk = await reader.take(left)
    hash.update(chunk)
    left -= chunk.length
  }
  return hash.digest()
}

/** Write `body` in chunks, waiting for 'drain' whenever `write()` says so. */
export async function writeAll(stream: Writable, body: Buffer): Promise<void> {
  for (let at = 0; at < body.length; at += WRITE_CHUNK) {
    if (!stream.write(body.subarray(at, at + WRITE_CHUNK))) await drained(stream)
  }
}

function drained(stream: Writable): Promise<void> {
  if (stream.destroyed) return Promise.reject(new Error('stream destroyed while writing'))
  const ac = new AbortController()
  return Promise.race([
    once(stream, 'drain', { signal: ac.signal }).then(() => undefined),
    once(stream, 'close', { signal: ac.signal }).then(() => {
      throw new Error('stream closed while writing')
    }),
  ]).finally(() => {
    ac.abort()
  })
}

export function sha256(data: Buffer): Buffer {
  return createHash('sha256').update(data).digest()
}
