/**
 * Measuring a byte stream (an I2P stream or a plain TCP socket), used by the demo and the benchmark.
 * The serving side reads one mode byte: 'E' echoes everything back; 'S' reads an 8-byte length, consumes
 * that many bytes and answers 'K' — a one-way transfer the sender can time end to end.
 */
import type { Duplex } from 'node:stream'
import { once } from 'node:events'

const ECHO = 0x45 // 'E'
const SINK = 0x53 // 'S'
const ACK = 0x4b // 'K'

export function serveMeasure(stream: Duplex): void {
  stream.once('data', (first: Buffer) => {
    const mode = first[0]
    const rest = first.subarray(1)
    if (mode === ECHO) {
      if (rest.length > 0) stream.write(rest)
      stream.pipe(stream)
    } else if (mode === SINK) {
      sink(stream, rest)
    } else {
      stream.destroy()
    }
  })
  stream.on('error', () => undefined)
}

function sink(stream: Duplex, first: Buffer): void {
  let header = first
  let remaining = -1
  const onData = (chunk: Buffer): void => {
    if (remaining < 0) {
      header = Buffer.concat([header, chunk])
      if (header.length < 8) return
      remaining = Number(header.readBigUInt64BE(0))
      chunk = header.subarray(8)
    }
    remaining -= chunk.length
    if (remaining <= 0) {
      stream.off('data', onData)
      stream.write(Buffer.of(ACK))
    }
  }
  onData(Buffer.alloc(0))
  stream.on('data', onData)
}

/** Time from writing the mode byte to the first echoed byte (the first round trip of a new stream). */
export async function firstEcho(stream: Duplex): Promise<number> {
  const t0 = performance.now()
  stream.write(Buffer.of(ECHO, 0x21))
  await readExactly(stream, 1)
  return performance.now() - t0
}

/** Round trips of `size` bytes on a stream already in echo mode; returns the samples in ms. */
export function roundTrips(stream: Duplex, size: number, count: number): Promise<number[]> {
  return rotatedRoundTrips([stream], size, count)
}

/**
 * Round trips taking turns on warm streams already in echo mode (round trip i on stream i mod n), each sent
 * `gapMs` after the previous answer: how far resting a stream between sends gets under i2pd's send timer.
 */
export async function rotatedRoundTrips(
  streams: readonly Duplex[],
  size: number,
  count: number,
  gapMs = 0,
): Promise<number[]> {
  const payload = Buffer.alloc(size, 0x61)
  const samples: number[] = []
  for (let i = 0; i < count; i++) {
    const stream = streams[i % streams.length] as Duplex
    if (gapMs > 0) await new Promise((resolve) => setTimeout(resolve, gapMs))
    const t0 = performance.now()
    stream.write(payload)
    await readExactly(stream, size)
    samples.push(performance.now() - t0)
  }
  return samples
}

/** Send `bytes` one way and wait for the receiver's acknowledgement; returns bytes per second. */
export async function oneWay(stream: Duplex, bytes: number): Promise<number> {
  const header = Buffer.alloc(9)
  header[0] = SINK
  header.writeBigUInt64BE(BigInt(bytes), 1)
  const chunk = Buffer.alloc(64 * 1024, 0x62)
  const t0 = performance.now()
  const acked = readExactly(stream, 1)
  stream.write(header)
  for (let sent = 0; sent < bytes; sent += chunk.length) {
    const part = bytes - sent < chunk.length ? chunk.subarray(0, bytes - sent) : chunk
    if (!stream.write(part)) await once(stream, 'drain')
  }
  await acked
  return bytes / ((performance.now() - t0) / 1000)
}

/** Resolve once `n` bytes have arrived (consuming them); reject if the stream ends first. */
export function readExactly(stream: Duplex, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = []
    let got = 0
    const cleanup = (): void => {
      stream.pause() // keep whatever comes next buffered for the next reader
      stream.off('data', onData)
      stream.off('close', onClose)
      stream.off('error', onClose)
    }
    const onData = (chunk: Buffer): void => {
      parts.push(chunk)
      got += chunk.length
      if (got < n) return
      cleanup()
      const all = Buffer.concat(parts)
      if (all.length > n) stream.unshift(all.subarray(n))
      resolve(all.subarray(0, n))
    }
    const onClose = (err?: unknown): void => {
      cleanup()
      reject(err instanceof Error ? err : new Error(`stream closed after ${got} of ${n} bytes`))
    }
    stream.on('data', onData)
    stream.once('close', onClose)
    stream.once('error', onClose)
    stream.resume()
  })
}

export function percentile(samples: readonly number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b)
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[i] ?? NaN
}
