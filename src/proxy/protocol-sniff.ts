/**
 * Which HTTP a new inbound stream speaks, from its first bytes: HTTP/2 with prior knowledge opens with the
 * client preface (RFC 9113 §3.4), anything else is HTTP/1.1 (a daemon's CONNECT tunnel, a raw SAM client). The
 * bytes read are put back and the stream is left paused: an HTTP/1.1 server that takes it must be followed by
 * `resume()` (it only listens for 'data'), an HTTP/2 server reads what is buffered itself.
 */
import type { Duplex } from 'node:stream'

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1')

export type Protocol = 'h2' | 'http1'

/** Resolves once the first bytes decide; never if the stream stays silent (its idle limit closes it). */
export function sniffProtocol(stream: Duplex): Promise<Protocol> {
  return new Promise((resolve) => {
    let seen = Buffer.alloc(0)
    const done = (protocol: Protocol): void => {
      stream.off('data', onData)
      stream.off('close', onClose)
      stream.pause()
      stream.unshift(seen)
      resolve(protocol)
    }
    const onData = (chunk: Buffer): void => {
      seen = Buffer.concat([seen, chunk])
      const n = Math.min(seen.length, PREFACE.length)
      if (!seen.subarray(0, n).equals(PREFACE.subarray(0, n))) done('http1')
      else if (n === PREFACE.length) done('h2')
    }
    const onClose = (): void => {
      done('http1') // the HTTP/1.1 server sees the close and cleans up
    }
    stream.on('data', onData)
    stream.once('close', onClose)
  })
}
