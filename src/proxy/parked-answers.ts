/**
 * Service responses to requests over datagrams that are longer than one ANSWER frame: the response is held
 * — its first bytes read, the rest left unread in the service's connection (backpressure, no buffering) —
 * under a random token the caller gets in the frame, until the caller fetches it over a stream
 * (`ANSWER_PATH<token>`, inbound.ts) or `timeout` passes (then the service's response is dropped). Each
 * is taken once, and only by the worker that made the request (an anonymous one: by whoever holds the
 * token, which only went to the request's source). Bounded in number, `max` in all and `maxPerCaller` for
 * each caller (the anonymous ones together), so one caller cannot take every place: past either,
 * ERR_ANSWERS_FULL.
 */
import { randomBytes } from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'
import type { Readable } from 'node:stream'
import { PRouterError } from '../errors.js'

export interface ParkedAnswer {
  status: number
  headers: IncomingHttpHeaders
  /** What was read of the body before it was parked. */
  head: Buffer
  /** The rest of the body, paused. */
  rest: Readable
  /** The caller's worker key; undefined: anonymous. */
  owner: string | undefined
}

export interface ParkedAnswers {
  /** Hold `answer`; returns its token. */
  park(answer: ParkedAnswer): string
  /** The answer under `token` if `caller` may have it (it is no longer held), else undefined. */
  take(token: string, caller: string | undefined): ParkedAnswer | undefined
  close(): void
}

export function createParkedAnswers(init: {
  max: number
  maxPerCaller: number
  timeout: number
}): ParkedAnswers {
  const held = new Map<string, { answer: ParkedAnswer; timer: NodeJS.Timeout }>()
  const perCaller = new Map<string | undefined, number>()
  const count = (owner: string | undefined, by: number): void => {
    const n = (perCaller.get(owner) ?? 0) + by
    if (n === 0) perCaller.delete(owner)
    else perCaller.set(owner, n)
  }
  const forget = (token: string): ParkedAnswer | undefined => {
    const entry = held.get(token)
    if (entry === undefined) return undefined
    held.delete(token)
    clearTimeout(entry.timer)
    count(entry.answer.owner, -1)
    return entry.answer
  }
  const drop = (token: string): void => {
    forget(token)?.rest.destroy()
  }
  return {
    park(answer) {
      if (held.size >= init.max || (perCaller.get(answer.owner) ?? 0) >= init.maxPerCaller) {
        answer.rest.destroy()
        const who = answer.owner ?? 'anonymous callers'
        throw new PRouterError('ERR_ANSWERS_FULL', `long answers wait to be fetched already (for ${who})`)
      }
      count(answer.owner, 1)
      answer.rest.pause()
      const token = randomBytes(16).toString('hex')
      const timer = setTimeout(() => {
        drop(token)
      }, init.timeout)
      timer.unref()
      held.set(token, { answer, timer })
      return token
    },
    take(token, caller) {
      const entry = held.get(token)
      if (entry === undefined) return undefined
      if (entry.answer.owner !== undefined && entry.answer.owner !== caller) return undefined
      return forget(token)
    },
    close() {
      for (const token of [...held.keys()]) drop(token)
    },
  }
}
