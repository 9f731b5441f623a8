/**
 * The service's response to a request over datagrams, made into its answer (request-wire.ts): read whole
 * when it fits one ANSWER frame, else parked with what was read so far (parked-answers.ts) and answered with
 * the token. Errors become answers of their own, `{ code, message }` with the code's status, as `sendError`
 * writes them on a stream.
 */
import type { ClientRequest, IncomingHttpHeaders } from 'node:http'
import { Readable } from 'node:stream'
import { PRouterError } from '../errors.js'
import { MAX_ANSWER_BYTES } from '../messages/frames.js'
import { encodeWireAnswer, toPairs, type WireAnswer } from '../messages/request-wire.js'
import { forwardableHeaders } from './headers.js'
import { httpStatusOf } from './http-error.js'

const EMPTY = Buffer.alloc(0)

export interface ToPark {
  status: number
  headers: IncomingHttpHeaders
  head: Buffer
  rest: Readable
}

/**
 * `req` sent (its body ended) -> its answer. `park` holds a long one and returns its token; `timeout`
 * bounds the whole exchange until the answer is read or parked (ERR_REQUEST_TIMEOUT).
 */
export function collectAnswer(
  req: ClientRequest,
  park: (answer: ToPark) => string,
  timeout: number,
): Promise<WireAnswer> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      req.destroy(new PRouterError('ERR_REQUEST_TIMEOUT', `the service gave no answer within ${timeout} ms`))
    }, timeout)
    const fail = (err: unknown): void => {
      clearTimeout(timer)
      reject(err instanceof Error ? err : new Error(String(err)))
    }
    req.once('error', fail)
    req.once('response', (res) => {
      const status = res.statusCode ?? 502
      const headers = toPairs(forwardableHeaders(res.headers))
      const room = MAX_ANSWER_BYTES - encodeWireAnswer({ status, headers, body: EMPTY }).length
      const chunks: Buffer[] = []
      let read = 0
      const settle = (rest: Readable | undefined): void => {
        clearTimeout(timer)
        res.off('data', onData)
        res.off('end', onEnd)
        const head = Buffer.concat(chunks)
        if (rest === undefined && read <= room) {
          resolve({ status, headers, body: head })
          return
        }
        try {
          const token = park({ status, headers: res.headers, head, rest: rest ?? Readable.from([]) })
          resolve({ status, headers, body: EMPTY, parked: token })
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)))
        }
      }
      const onData = (chunk: Buffer): void => {
        chunks.push(chunk)
        read += chunk.length
        if (read > room) settle(res)
      }
      const onEnd = (): void => {
        settle(undefined)
      }
      res.on('error', fail) // stays: a parked response's connection may still fail; its fetch sees the end
      res.on('data', onData)
      res.once('end', onEnd)
    })
  })
}

/** An error as the answer a stream would have carried: its status, `{ code, message }`, retry-after. */
export function errorAnswer(e: PRouterError): WireAnswer {
  const body = Buffer.from(JSON.stringify({ code: e.code, message: e.message }))
  const retry = e.detail?.retryAfterSeconds
  const headers: Array<[string, string]> = [
    ['content-type', 'application/json'],
    ['content-length', String(body.length)],
  ]
  if (typeof retry === 'number') headers.push(['retry-after', String(retry)])
  return { status: httpStatusOf(e.code), headers, body }
}
