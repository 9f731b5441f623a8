/**
 * A RegistryBackend that talks to `prouter registry serve` over HTTP (kind 'local-http'), with both
 * capabilities of the store (RouterInfos, usage reports). Error answers come back as the same PRouterError
 * codes the store raised, so callers branch alike on every backend. Report lists follow the server's pages
 * (`next`) to the end, a bounded number of them.
 */
import { ERROR_CODES, PRouterError } from '../../errors.js'
import type { ErrorCode } from '../../errors.js'
import { DEFAULT_REGISTRY_TIMEOUT, DEFAULT_MAX_REPORTS } from '../../constants.js'
import { deadlineSignal } from '../../signals.js'
import type { SignedBinding } from '../../identity/index.js'
import type { SignedUsageReport } from '../../metering/report.js'
import { bindingFromJson, bindingToJson, decodeEndpointPayload, workerKeyHex } from '../../identity/index.js'
import type {
  BackendCallOptions,
  BindingEvent,
  PublishReceipt,
  RegistryBackend,
  ReportQuery,
  ReportReceipt,
  ReportStorage,
  RouterInfoReceipt,
  RouterInfoStorage,
} from '../backend.js'

export interface HttpBackendInit {
  /** Base URL, e.g. http://127.0.0.1:7610 */
  url: string
  /** Bearer token for publishing. */
  token?: string
  timeout?: number
}

/** The HTTP backend has both capabilities of the store it fronts. */
export interface HttpBackend extends RegistryBackend {
  readonly routerInfos: RouterInfoStorage
  readonly reports: ReportStorage
}

export function createHttpBackend(init: HttpBackendInit): HttpBackend {
  const base = init.url.replace(/\/+$/, '')
  const timeout = init.timeout ?? DEFAULT_REGISTRY_TIMEOUT

  const call = async (path: string, req: RequestInit, signal?: AbortSignal): Promise<unknown> => {
    signal?.throwIfAborted()
    const deadline = deadlineSignal(timeout, signal)
    try {
      const res = await fetch(`${base}${path}`, { ...req, signal: deadline.signal }).catch(
        (cause: unknown) => {
          if (signal?.aborted === true) throw signal.reason
          throw new PRouterError('ERR_REGISTRY_UNREACHABLE', `registry ${base} unreachable`, { cause })
        },
      )
      const body = (await res.json().catch(() => ({}))) as { code?: string; message?: string }
      if (!res.ok) throw errorFromAnswer(res.status, body, base)
      return body
    } finally {
      deadline.dispose()
    }
  }

  return {
    kind: 'local-http',
    publish: async (binding: SignedBinding, options: BackendCallOptions = {}): Promise<PublishReceipt> => {
      const headers = { 'content-type': 'application/json', authorization: `Bearer ${init.token ?? ''}` }
      const body = JSON.stringify(bindingToJson(binding))
      const answer = (await call('/v1/bindings', { method: 'POST', headers, body }, options.signal)) as {
        signingTime: number
      }
      return { ref: String(answer.signingTime) }
    },
    candidates: async (workerKey: string, options: BackendCallOptions = {}): Promise<SignedBinding[]> => {
      try {
        return [
          bindingFromJson(await call(`/v1/bindings/${encodeURIComponent(workerKey)}`, {}, options.signal)),
        ]
      } catch (err) {
        if (err instanceof PRouterError && err.code === 'ERR_REGISTRY_NOT_FOUND') return []
        throw err
      }
    },
    all: async (options: BackendCallOptions = {}): Promise<SignedBinding[]> => {
      const { bindings } = (await call('/v1/bindings', {}, options.signal)) as { bindings: unknown[] }
      return bindings.map(bindingFromJson)
    },
    routerInfos: {
      publish: async (bytes: Uint8Array, options: BackendCallOptions = {}) => {
        const headers = {
          'content-type': 'application/octet-stream',
          authorization: `Bearer ${init.token ?? ''}`,
        }
        const req = { method: 'PUT', headers, body: bytes }
        return receiptFrom(await call('/v1/router-infos', req, options.signal), base)
      },
      list: async (options: BackendCallOptions = {}) =>
        routerInfosFrom(await call('/v1/router-infos', {}, options.signal), base),
    },
    reports: {
      publish: async (report: SignedUsageReport, options: BackendCallOptions = {}) => {
        const headers = { 'content-type': 'application/json', authorization: `Bearer ${init.token ?? ''}` }
        const req = { method: 'PUT', headers, body: JSON.stringify(report) }
        return reportReceiptFrom(await call('/v1/reports', req, options.signal), base)
      },
      list: async (query: ReportQuery, options: BackendCallOptions = {}) => {
        const all: SignedUsageReport[] = []
        let after: string | undefined
        do {
          const path = `/v1/reports${reportSearch(query, after)}`
          const page = reportsFrom(await call(path, {}, options.signal), base)
          all.push(...page.reports)
          if (page.next !== undefined && (page.next === after || all.length > DEFAULT_MAX_REPORTS)) {
            throw badAnswer(base, 'pages that end') // a server that loops its cursor, or never stops
          }
          after = page.next
        } while (after !== undefined)
        return all
      },
    },
    watch: (onEvent, options) => watchEvents(base, onEvent, options.signal),
    close: () => Promise.resolve(),
  }
}

function errorFromAnswer(
  status: number,
  body: { code?: string; message?: string },
  base: string,
): PRouterError {
  const known = typeof body.code === 'string' && body.code in ERROR_CODES
  const code: ErrorCode = known ? (body.code as ErrorCode) : 'ERR_REGISTRY_BAD_REQUEST'
  return new PRouterError(code, `registry ${base}: ${body.message ?? `HTTP ${status}`}`, {
    detail: { status },
  })
}

function receiptFrom(answer: unknown, base: string): RouterInfoReceipt {
  const { id, published } = answer as Partial<RouterInfoReceipt>
  if (typeof id !== 'string' || typeof published !== 'number') throw badAnswer(base, '{ id, published }')
  return { id, published }
}

function routerInfosFrom(answer: unknown, base: string): Uint8Array[] {
  const { routerInfos } = answer as { routerInfos?: unknown }
  if (!Array.isArray(routerInfos) || !routerInfos.every((r) => typeof r === 'string')) {
    throw badAnswer(base, '{ routerInfos: [base64 …] }')
  }
  return routerInfos.map((r) => new Uint8Array(Buffer.from(r, 'base64')))
}

function reportReceiptFrom(answer: unknown, base: string): ReportReceipt {
  const { workerKey, start } = answer as Partial<ReportReceipt>
  if (typeof workerKey !== 'string' || typeof start !== 'number') {
    throw badAnswer(base, '{ workerKey, start }')
  }
  return { workerKey, start }
}

/**
 * One page of reports as the server sent them, unverified: readers verify each (a bad one does not hide the
 * rest); `next` is the cursor of the following page.
 */
function reportsFrom(answer: unknown, base: string): { reports: SignedUsageReport[]; next?: string } {
  const { reports, next } = answer as { reports?: unknown; next?: unknown }
  const isObject = (r: unknown): boolean => typeof r === 'object' && r !== null && !Array.isArray(r)
  if (
    !Array.isArray(reports) ||
    !reports.every(isObject) ||
    !(next === undefined || typeof next === 'string')
  ) {
    throw badAnswer(base, '{ reports: [ { report, signature } … ], next? }')
  }
  return { reports: reports as SignedUsageReport[], ...(next === undefined ? {} : { next }) }
}

/** `?from=&to=&worker=&after=` with the fields given, or nothing. */
function reportSearch(query: ReportQuery, after?: string): string {
  const params = new URLSearchParams()
  if (query.from !== undefined) params.set('from', String(query.from))
  if (query.to !== undefined) params.set('to', String(query.to))
  if (query.workerKey !== undefined) params.set('worker', query.workerKey)
  if (after !== undefined) params.set('after', after)
  const search = params.toString()
  return search === '' ? '' : `?${search}`
}

function badAnswer(base: string, expected: string): PRouterError {
  return new PRouterError(
    'ERR_REGISTRY_BAD_REQUEST',
    `registry ${base} answered something other than ${expected}`,
  )
}

/** Server-sent events: one `data:` line per accepted binding. */
async function watchEvents(
  base: string,
  onEvent: (e: BindingEvent) => void,
  signal: AbortSignal,
): Promise<void> {
  let res: Response
  try {
    res = await fetch(`${base}/v1/events`, { signal })
  } catch (cause) {
    if (signal.aborted) return
    throw new PRouterError('ERR_REGISTRY_UNREACHABLE', `registry ${base} unreachable`, { cause })
  }
  if (res.body === null) return
  let buffered = ''
  try {
    for await (const chunk of res.body.pipeThrough(new TextDecoderStream())) {
      buffered += chunk
      let end: number
      while ((end = buffered.indexOf('\n\n')) >= 0) {
        const event = buffered.slice(0, end)
        buffered = buffered.slice(end + 2)
        dispatch(event, onEvent)
      }
    }
  } catch (err) {
    if (signal.aborted) return
    throw new PRouterError('ERR_REGISTRY_UNREACHABLE', `registry ${base}: event stream broke`, { cause: err })
  }
  if (!signal.aborted)
    throw new PRouterError('ERR_REGISTRY_UNREACHABLE', `registry ${base}: event stream ended`)
}

function dispatch(event: string, onEvent: (e: BindingEvent) => void): void {
  const data = event
    .split('\n')
    .filter((l) => l.startsWith('data: '))
    .map((l) => l.slice(6))
    .join('')
  if (data === '') return
  let binding: SignedBinding
  let workerKey: string
  try {
    binding = bindingFromJson(JSON.parse(data))
    workerKey = workerKeyHex(decodeEndpointPayload(binding.payload).pubkey)
  } catch {
    return // not a binding: the resolver would drop it anyway
  }
  onEvent({ workerKey, binding })
}
