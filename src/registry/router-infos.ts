/**
 * RouterInfos as read from an untrusted backend: each is verified (readRouterInfo), what fails is dropped,
 * and of several RouterInfos of one router the newest `published` is kept. Pure but for the `onInvalid`
 * callback, which the resolver uses to log each bad record once.
 */
import { createHash } from 'node:crypto'
import { isPRouterError } from '../errors.js'
import type { ErrorCode } from '../errors.js'
import { readRouterInfo } from '../i2p/index.js'
import type { RouterInfo } from '../i2p/index.js'

/** How many bad records' digests a reporter remembers before it starts over (a bound on memory). */
const MAX_REMEMBERED_INVALID = 1024

export interface InvalidRouterInfo {
  code: ErrorCode
  message: string
  /** SHA-256 of the bytes, hex: names the record in logs. */
  digest: string
}

export function newestRouterInfos(
  records: readonly Uint8Array[],
  onInvalid: (invalid: InvalidRouterInfo) => void = () => undefined,
): RouterInfo[] {
  const newest = new Map<string, RouterInfo>()
  for (const bytes of records) {
    const info = tryRead(bytes, onInvalid)
    if (info === undefined) continue
    const held = newest.get(info.id)
    if (held === undefined || info.published > held.published) newest.set(info.id, info)
  }
  return [...newest.values()]
}

/** An `onInvalid` that passes each distinct bad record on once (by digest). */
export function oncePerRecord(report: (invalid: InvalidRouterInfo) => void): (i: InvalidRouterInfo) => void {
  const seen = new Set<string>()
  return (invalid) => {
    if (seen.has(invalid.digest)) return
    if (seen.size >= MAX_REMEMBERED_INVALID) seen.clear()
    seen.add(invalid.digest)
    report(invalid)
  }
}

function tryRead(bytes: Uint8Array, onInvalid: (invalid: InvalidRouterInfo) => void): RouterInfo | undefined {
  try {
    return readRouterInfo(bytes)
  } catch (err) {
    if (!isPRouterError(err)) throw err
    const digest = createHash('sha256').update(bytes).digest('hex')
    onInvalid({ code: err.code, message: err.message, digest })
    return undefined
  }
}
