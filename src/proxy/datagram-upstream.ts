/**
 * An upstream (upstream.ts) whose request travels over datagrams (src/messages/requester.ts): the relay
 * writes the body as to any upstream; once it ends, the whole request goes out signed, and the answer that
 * comes back becomes the response. An answer the callee parked (longer than one frame) is fetched over a
 * stream, and that exchange becomes the upstream from then on.
 */
import { Readable, Writable } from 'node:stream'
import type { OutgoingHttpHeaders } from 'node:http'
import { fromPairs, toPairs, type WireAnswer, type WireRequest } from '../messages/request-wire.js'
import type { Upstream, UpstreamResponse } from './upstream.js'

export interface DatagramExchange {
  method: string
  target: string
  headers: OutgoingHttpHeaders
  /** Send the request; resolves with the callee's answer. */
  send: (request: WireRequest, signal: AbortSignal) => Promise<WireAnswer>
  /** Fetch a parked answer over a stream. */
  fetchParked: (token: string) => Promise<Upstream>
}

export function datagramUpstream(exchange: DatagramExchange): Upstream {
  const aborted = new AbortController()
  const chunks: Buffer[] = []
  let idle: { ms: number; onIdle: () => void } | undefined
  let timer: NodeJS.Timeout | undefined
  let parked: Upstream | undefined
  const body = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk)
      callback()
    },
  })

  const response = new Promise<UpstreamResponse>((resolve, reject) => {
    aborted.signal.addEventListener(
      'abort',
      () => {
        reject(aborted.signal.reason as Error)
      },
      { once: true },
    )
    const request = (): void => {
      if (idle !== undefined) timer = setTimeout(idle.onIdle, idle.ms)
      const { method, target, headers } = exchange
      exchange
        .send({ method, target, headers: toPairs(headers), body: Buffer.concat(chunks) }, aborted.signal)
        .then(async (answer) => {
          clearTimeout(timer)
          if (answer.parked === undefined) return inline(answer)
          parked = await exchange.fetchParked(answer.parked)
          if (idle !== undefined) parked.setIdleTimeout(idle.ms, idle.onIdle)
          return parked.response
        })
        .then(resolve, reject)
    }
    body.once('finish', request)
  })
  response.catch(() => undefined) // destroyed before anyone awaits it

  return {
    body,
    response,
    assigned: Promise.resolve(),
    reused: () => false,
    setIdleTimeout: (ms, onIdle) => {
      idle = { ms, onIdle }
    },
    destroy: (err) => {
      clearTimeout(timer)
      parked?.destroy(err)
      aborted.abort(err ?? new Error('request over datagrams destroyed'))
    },
  }
}

function inline(answer: WireAnswer): UpstreamResponse {
  return {
    status: answer.status,
    headers: fromPairs(answer.headers),
    body: Readable.from(answer.body.length > 0 ? [answer.body] : []),
  }
}
