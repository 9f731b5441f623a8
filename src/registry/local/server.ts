/**
 * `prouter registry serve`: the embedded store over HTTP on loopback, so several daemons share one registry.
 *
 *   POST /v1/bindings            { payload: 0x…, signature: 0x… }  (bearer token)  -> 201 { workerKey, signingTime, endpoints }
 *   GET  /v1/bindings/:workerKey                                                   -> 200 { payload, signature, workerKey, signingTime, endpoints }
 *   GET  /v1/bindings                                                              -> 200 { bindings: [ … ] }
 *   GET  /v1/events              text/event-stream, one `data: { payload, signature }` per accepted binding
 *   PUT  /v1/router-infos        raw RouterInfo bytes, application/octet-stream  (bearer token)  -> 200 { id, published }
 *   GET  /v1/router-infos                                                          -> 200 { routerInfos: [ base64 … ] }
 *   PUT  /v1/reports             { report: {…}, signature: 0x… }, application/json  (bearer token)  -> 200 { workerKey, start }
 *   GET  /v1/reports?from=&to=&worker=&after=&limit=   ms, ms, 0x key, cursor, 1..100; each optional
 *                                                                                  -> 200 { reports: [ { report, signature } … ], next? }
 *   GET  /healthz                                                                  -> 200 { ok: true }
 *
 * Reads are open: bindings, RouterInfos and usage reports are public by design (the other backend keeps
 * bindings on a public chain) and every reader re-verifies them; RouterInfos are listed in standard base64
 * (RFC 4648). Writes need the token: the signature already guarantees integrity; the token keeps other local
 * users from filling the store, so the server refuses to start with an empty or short one
 * (ERR_REGISTRY_TOKEN_WEAK). Reports are listed in pages (at most MAX_REPORTS_PAGE reports and
 * MAX_REPORTS_PAGE_BYTES; `next` is the cursor of the following page, absent on the last), written from the
 * stored JSON as it is: a reader with no token cannot make the server parse or hold more than one page.
 * Errors: `{ code, message }` with the status of http-errors.ts.
 */
import { timingSafeEqual } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { fastify } from 'fastify'
import { PRouterError, isPRouterError } from '../../errors.js'
import { DEFAULT_REGISTRY_BODY_LIMIT, MAX_REPORT_BYTES, MAX_REPORTS_PAGE } from '../../constants.js'
import { MAX_ROUTER_INFO_BYTES } from '../../i2p/index.js'
import type { Logger } from '../../logger.js'
import {
  bindingFromJson,
  bindingToJson,
  decodeEndpointPayload,
  parseWorkerKey,
  workerKeyHex,
} from '../../identity/index.js'
import type { SignedBinding } from '../../identity/index.js'
import { parseSignedUsageReport } from '../../metering/report.js'
import type { ReportQuery } from '../backend.js'
import type { PageOptions } from './report-store.js'
import type { LocalStore } from './store.js'
import { httpStatusOf } from './http-errors.js'
import { checkRegistryToken } from './token.js'

const OCTET_STREAM = 'application/octet-stream'
const JSON_TYPE = 'application/json'

export interface RegistryServerInit {
  store: LocalStore
  /** Bearer token for publishing: at least MIN_REGISTRY_TOKEN_LENGTH characters (ERR_REGISTRY_TOKEN_WEAK). */
  token: string
  bodyLimit?: number
}

export interface RegistryServer {
  readonly app: FastifyInstance
  /** Listen (default 127.0.0.1, port 0 = any free port); resolves with the URL. */
  listen(options?: { host?: string; port?: number }): Promise<string>
  close(): Promise<void>
}

export function createRegistryServer(
  init: RegistryServerInit,
  components: { logger: Logger },
): RegistryServer {
  checkRegistryToken(init.token)
  const log = components.logger.child({ component: 'registry-server' })
  // forceCloseConnections: close() must not wait for event streams (they never end on their own)
  const app = fastify({
    bodyLimit: init.bodyLimit ?? DEFAULT_REGISTRY_BODY_LIMIT,
    logger: false,
    forceCloseConnections: true,
  })
  app.setErrorHandler((err, _req, reply) => {
    const e = toPRouterError(err)
    if (e.code === 'ERR_INTERNAL') log.error({ err }, 'registry request failed')
    return sendError(reply, e)
  })
  app.setNotFoundHandler((req, reply) =>
    sendError(reply, new PRouterError('ERR_REGISTRY_NOT_FOUND', `no route ${req.method} ${req.url}`)),
  )
  registerRoutes(app, init, log)
  return {
    app,
    listen: async ({ host = '127.0.0.1', port = 0 } = {}) => {
      const url = await app.listen({ host, port })
      log.info({ url }, 'registry listening')
      return url
    },
    close: () => app.close(),
  }
}

function registerRoutes(app: FastifyInstance, init: RegistryServerInit, log: Logger): void {
  const { store } = init
  app.get('/healthz', () => ({ ok: true }))
  app.post('/v1/bindings', async (req, reply) => {
    requireToken(req, init.token)
    const binding = bindingFromJson(req.body)
    await store.publish(binding) // verifies; what follows only reads the accepted payload's fields
    const { workerKey, signingTime, endpoints } = fieldsOf(binding)
    return reply.code(201).send({ workerKey, signingTime, endpoints })
  })
  app.get<{ Params: { workerKey: string } }>('/v1/bindings/:workerKey', async (req) => {
    const key = workerKeyHex(parseWorkerKey(req.params.workerKey))
    const [held] = await store.candidates(key)
    if (held === undefined) throw new PRouterError('ERR_REGISTRY_NOT_FOUND', `no binding for worker ${key}`)
    return describe(held)
  })
  app.get('/v1/bindings', async () => ({ bindings: (await store.all()).map(describe) }))
  app.get('/v1/events', (req, reply) => {
    streamEvents(store, req, reply, log)
  })
  registerRouterInfoRoutes(app, init)
  registerReportRoutes(app, init)
}

/** A body over the largest RouterInfo is 413 before it is read in full. */
function registerRouterInfoRoutes(app: FastifyInstance, init: RegistryServerInit): void {
  app.addContentTypeParser(OCTET_STREAM, { parseAs: 'buffer' }, (_req, body, done) => {
    done(null, body)
  })
  app.put('/v1/router-infos', { bodyLimit: MAX_ROUTER_INFO_BYTES }, async (req) => {
    requireToken(req, init.token)
    if (!Buffer.isBuffer(req.body)) {
      throw new PRouterError('ERR_REGISTRY_BAD_REQUEST', `send the RouterInfo as ${OCTET_STREAM}`)
    }
    return init.store.routerInfos.publish(req.body)
  })
  app.get('/v1/router-infos', async () => ({
    routerInfos: (await init.store.routerInfos.list()).map((bytes) => Buffer.from(bytes).toString('base64')),
  }))
}

/**
 * Reports are JSON, read as text in their own scope, so a body that is not JSON is ERR_REPORT_MALFORMED like
 * any other bad report. The token is checked on the request, before a body of up to MAX_REPORT_BYTES is read.
 */
function registerReportRoutes(app: FastifyInstance, init: RegistryServerInit): void {
  void app.register((scope, _options, done) => {
    scope.removeAllContentTypeParsers() // JSON only: other content types are 400 ERR_REGISTRY_BAD_REQUEST
    scope.addContentTypeParser(JSON_TYPE, { parseAs: 'string' }, (_req, body, parsed) => {
      parsed(null, body)
    })
    const onRequest = (req: FastifyRequest, _reply: FastifyReply, next: () => void): void => {
      requireToken(req, init.token)
      next()
    }
    scope.put('/v1/reports', { bodyLimit: MAX_REPORT_BYTES, onRequest }, async (req) => {
      if (typeof req.body !== 'string') {
        throw new PRouterError('ERR_REGISTRY_BAD_REQUEST', `send the usage report as ${JSON_TYPE}`)
      }
      return init.store.reports.publish(parseSignedUsageReport(req.body)) // the store verifies
    })
    done()
  })
  app.get('/v1/reports', (req, reply) => {
    const { query, page } = reportQueryOf(req.query)
    const { json, next } = init.store.reports.page(query, page)
    // the stored canonical JSON, joined as it is: no report is parsed or serialized again to list it
    const tail = next === undefined ? '' : `,"next":${JSON.stringify(next)}`
    return reply.type(JSON_TYPE).send(`{"reports":[${json.join(',')}]${tail}}`)
  })
}

/**
 * `?from=&to=&worker=&after=&limit=`, each at most once, nothing else: ERR_REGISTRY_BAD_REQUEST names what
 * is wrong.
 */
function reportQueryOf(raw: unknown): { query: ReportQuery; page: PageOptions } {
  const params = (raw ?? {}) as Record<string, unknown>
  const known = ['from', 'to', 'worker', 'after', 'limit']
  const unknown = Object.keys(params).find((k) => !known.includes(k))
  if (unknown !== undefined) throw badQuery(`unknown parameter "${unknown.slice(0, 40)}"`)
  const page: PageOptions = {}
  if (params.after !== undefined) page.after = cursorParam(params.after)
  if (params.limit !== undefined) page.limit = limitParam(params.limit)
  const query: ReportQuery = {}
  if (params.from !== undefined) query.from = msParam(params.from, 'from')
  if (params.to !== undefined) query.to = msParam(params.to, 'to')
  if (params.worker !== undefined) query.workerKey = workerParam(params.worker)
  if (query.from !== undefined && query.to !== undefined && query.to < query.from) {
    throw badQuery('to is before from')
  }
  return { query, page }
}

function cursorParam(value: unknown): string {
  if (typeof value !== 'string' || !/^\d{16}\/0x[0-9a-f]{64}$/.test(value)) {
    throw badQuery('after is not one cursor this registry gave (the `next` of a page)')
  }
  return value
}

function limitParam(value: unknown): number {
  const n = typeof value === 'string' && /^\d{1,3}$/.test(value) ? Number(value) : NaN
  if (!(n >= 1 && n <= MAX_REPORTS_PAGE)) throw badQuery(`limit is not a whole number 1..${MAX_REPORTS_PAGE}`)
  return n
}

function msParam(value: unknown, name: string): number {
  if (typeof value !== 'string' || !/^\d{1,16}$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw badQuery(`${name} is not one whole number of ms since the epoch`)
  }
  return Number(value)
}

function workerParam(value: unknown): string {
  if (typeof value !== 'string') throw badQuery('worker is given more than once')
  try {
    return workerKeyHex(parseWorkerKey(value))
  } catch {
    throw badQuery('worker is not a 0x worker key (64 hex digits)')
  }
}

function badQuery(why: string): PRouterError {
  return new PRouterError('ERR_REGISTRY_BAD_REQUEST', `GET /v1/reports: ${why}`)
}

/**
 * The payload's fields, decoded without verifying: the store verified each binding when it accepted it, and
 * readers verify the signed bytes themselves, so a list of N bindings costs no N signature checks here.
 */
function fieldsOf(binding: SignedBinding): { workerKey: string; signingTime: number; endpoints: string[] } {
  const p = decodeEndpointPayload(binding.payload)
  return {
    workerKey: workerKeyHex(p.pubkey),
    signingTime: Number(p.signingTime),
    endpoints: [...p.endpoints],
  }
}

function describe(binding: SignedBinding): object {
  return { ...bindingToJson(binding), ...fieldsOf(binding) }
}

function streamEvents(store: LocalStore, req: FastifyRequest, reply: FastifyReply, log: Logger): void {
  const controller = new AbortController()
  reply.hijack()
  reply.raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' })
  reply.raw.write(': watching\n\n')
  req.raw.on('close', () => {
    controller.abort()
  })
  store
    .watch(
      ({ binding }) => {
        reply.raw.write(`data: ${JSON.stringify(bindingToJson(binding))}\n\n`)
      },
      { signal: controller.signal },
    )
    .catch((err: unknown) => {
      log.warn({ err }, 'event stream ended')
    })
    .finally(() => reply.raw.end())
}

function requireToken(req: FastifyRequest, token: string): void {
  const given = Buffer.from(/^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '')
  const want = Buffer.from(token)
  if (given.length !== want.length || !timingSafeEqual(given, want)) {
    throw new PRouterError('ERR_REGISTRY_UNAUTHORIZED', 'a valid bearer token is required to publish')
  }
}

function toPRouterError(err: unknown): PRouterError {
  if (isPRouterError(err)) return err
  const e = err as { code?: string; message?: string }
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return new PRouterError('ERR_REGISTRY_BODY_TOO_LARGE', 'request body too large')
  }
  if (typeof e.code === 'string' && e.code.startsWith('FST_ERR_CTP')) {
    return new PRouterError('ERR_REGISTRY_BAD_REQUEST', e.message ?? 'bad request body')
  }
  if ((err as { statusCode?: number }).statusCode === 400) {
    return new PRouterError('ERR_REGISTRY_BAD_REQUEST', e.message ?? 'bad request')
  }
  return new PRouterError('ERR_INTERNAL', 'internal error', { cause: err })
}

function sendError(reply: FastifyReply, err: PRouterError): FastifyReply {
  const status = httpStatusOf(err.code)
  return reply.code(status).send({ code: err.code, message: status === 500 ? 'internal error' : err.message })
}
