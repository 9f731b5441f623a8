/**
 * A body of known length relayed so that its last bytes and its end leave together: the chunk that completes
 * the length is written with `end()`. Over HTTP/2 on I2P an end written on its own (an empty DATA frame a tick
 * later) waits out i2pd's send timer (~11 ms) before it leaves; the head goes out with the first chunk
 * (implicit headers), so a one-chunk answer is one write.
 */
import type { Readable, Writable } from 'node:stream'
import { PRouterError } from '../errors.js'
import type { HttpResponse } from './http-error.js'

/** Resolves once `length` bytes of `body` are written to `res` and ended; rejects if `body` fails, runs short or over. */
export function pipeKnownLength(body: Readable, res: HttpResponse, length: number): Promise<void> {
  const out: Writable = res // either kind of response is a Writable
  return new Promise((resolve, reject) => {
    let sent = 0
    const fail = (err: Error): void => {
      body.off('data', onData)
      reject(err)
    }
    const onData = (chunk: Buffer): void => {
      sent += chunk.length
      if (sent > length) {
        fail(new PRouterError('ERR_PEER_CLOSED', `an answer over its content-length of ${length}`))
        return
      }
      if (sent === length) {
        out.end(chunk, () => {
          resolve()
        })
        return
      }
      if (!out.write(chunk)) {
        body.pause()
        out.once('drain', () => body.resume())
      }
    }
    body.on('data', onData)
    body.once('error', fail)
    body.once('close', () => {
      if (sent < length)
        fail(new PRouterError('ERR_PEER_CLOSED', `an answer cut short at ${sent} of ${length} bytes`))
    })
  })
}
