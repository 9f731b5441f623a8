/**
 * The local API on loopback, for pRuntime and operators (docs/api.md):
 *
 *   GET  /healthz                          200 when the router answers and the SAM session is up, else 503 (no token)
 *   GET  /v1/status                        identity, router, session, tunnels, peers
 *   GET  /v1/peers                         known, warm and recently seen peers
 *   GET  /v1/metering/history              traffic per step over the last hour (the status page's plots)
 *   GET  /v1/reports                       this worker's usage reports (?from=&to= ms)
 *   GET  /metrics                          Prometheus exposition (prouter_… metrics)
 *   GET  /status                           the status page (static; its data calls carry the token)
 *   ANY  /v1/workers/{worker}/{path…}      relayed to that worker's service over I2P
 *   POST /v1/messages/{worker}             a signed message to that worker (src/api/messages-route.ts)
 *   CONNECT {worker}.prouter:{port}        a raw stream to the worker (HTTP CONNECT proxy)
 *   ANY  http://{worker}.prouter/{path…}   the same relay, as an HTTP forward proxy
 *
 * One node:http server: the hot route is a streaming relay, which a framework would only wrap.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type net from 'node:net'
import type { Duplex } from 'node:stream'
import { PRouterError } from '../errors.js'
import type { Logger } from '../logger.js'
import type { Outbound } from '../proxy/outbound.js'
import { sendError, toPRouterError, writeRawError } from '../proxy/http-error.js'
import { workerKeyFromHost, workerKeyFromName } from '../proxy/worker-name.js'
import { createTokenCheck, proxyAuthRequired, unauthorized, type TokenCheck } from './auth.js'
import { MESSAGES_ROUTE, postMessage, type MessagesApi } from './messages-route.js'

export interface ApiInit {
  host: string
  port: number
  token: string
  maxHeaderBytes: number
  requestTimeout: number
}

export interface ApiComponents {
  logger: Logger
  outbound: Outbound
  /** Undefined when messages are not enabled. */
  messaging?: MessagesApi | undefined
  status: () => Promise<object>
  peers: () => Promise<object>
  health: () => { ok: boolean; state: string }
  /** Traffic history for the status page. */
  history: () => object
  /** This worker's own reports whose periods overlap [from, to). */
  reports: (query: { from?: number; to?: number }) => Promise<object>
  /** Prometheus text exposition. */
  metrics: () => Promise<{ contentType: string; body: string }>
  /** Static pages (src/web): answers and returns true when `path` is one of its files. */
  web?: (path: string, res: ServerResponse) => boolean
}

export interface ApiServer {
  /** Resolves with the URL it listens on (the port read back when 0 was asked). */
  listen(): Promise<string>
  close(): Promise<void>
}

const WORKER_ROUTE = /^\/v1\/workers\/([^/?]+)(\/[^?]*)?(\?.*)?$/

export function createApiServer(init: ApiInit, components: ApiComponents): ApiServer {
  const log = components.logger.child({ component: 'api' })
  const auth = createTokenCheck(init.token)
  const server = createServer({
    maxHeaderSize: init.maxHeaderBytes,
    requestTimeout: init.requestTimeout,
    keepAliveTimeout: 30_000,
  })
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    route(req, res, auth, components).catch((err: unknown) => {
      const e = toPRouterError(err) // a client's mistake is its answer; only the unexpected is logged as error
      if (e.code === 'ERR_INTERNAL') log.error({ err, url: req.url?.slice(0, 200) }, 'API request failed')
      sendError(res, e)
    })
  })
  server.on('connect', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    void connect(req, socket, head, auth, components.outbound)
  })
  server.on('clientError', (err: NodeJS.ErrnoException, socket: net.Socket) => {
    const tooLarge = err.code === 'HPE_HEADER_OVERFLOW'
    if (!socket.writable) return
    if (tooLarge)
      writeRawError(socket, new PRouterError('ERR_HEADERS_TOO_LARGE', 'request headers too large'))
    else
      writeRawError(
        socket,
        new PRouterError('ERR_API_BAD_REQUEST', `malformed HTTP request (${err.code ?? 'parse'})`),
      )
  })
  return {
    listen: () => listen(server, init, log),
    close: () => close(server),
  }
}

async function route(
  req: IncomingMessage,
  res: ServerResponse,
  auth: TokenCheck,
  c: ApiComponents,
): Promise<void> {
  const url = req.url ?? '/'
  if (/^https?:\/\//i.test(url)) return forwardProxy(req, res, url, auth, c.outbound)
  const path = url.split('?')[0]
  if (path === '/healthz' && req.method === 'GET') {
    health(res, c)
    return
  }
  if (req.method === 'GET' && path !== undefined && c.web?.(path, res) === true) return
  const api = auth.api(req)
  if (!api.ok) {
    sendError(res, unauthorized(), { 'www-authenticate': 'Bearer' })
    return
  }
  const worker = WORKER_ROUTE.exec(url)
  if (worker !== null) {
    const workerKey = workerKeyFromName(decodeName(worker[1] ?? ''))
    const target = `${worker[2] ?? '/'}${worker[3] ?? ''}`
    return c.outbound.forward(req, res, workerKey, target, api.header === undefined ? [] : [api.header])
  }
  const message = MESSAGES_ROUTE.exec(url)
  if (message !== null) return postMessage(req, res, message, c.messaging)
  if (req.method === 'GET' && path === '/v1/status') {
    json(res, 200, await c.status())
    return
  }
  if (req.method === 'GET' && path === '/v1/peers') {
    json(res, 200, await c.peers())
    return
  }
  if (req.method === 'GET' && path === '/v1/metering/history') {
    json(res, 200, c.history())
    return
  }
  if (req.method === 'GET' && path === '/v1/reports') {
    json(res, 200, await c.reports(periodQuery(url)))
    return
  }
  if (req.method === 'GET' && path === '/metrics') {
    const m = await c.metrics()
    res.writeHead(200, { 'content-type': m.contentType, 'content-length': Buffer.byteLength(m.body) })
    res.end(m.body)
    return
  }
  sendError(res, new PRouterError('ERR_NOT_FOUND', `no route ${req.method ?? ''} ${url.slice(0, 100)}`))
}

async function forwardProxy(
  req: IncomingMessage,
  res: ServerResponse,
  url: string,
  auth: TokenCheck,
  out: Outbound,
) {
  if (!auth.proxy(req)) {
    sendError(res, proxyAuthRequired(), { 'proxy-authenticate': 'Bearer' })
    return
  }
  const target = parseProxyUrl(url)
  const workerKey = workerKeyFromHost(target.host)
  return out.forward(req, res, workerKey, `${target.pathname}${target.search}`)
}

async function connect(req: IncomingMessage, socket: Duplex, head: Buffer, auth: TokenCheck, out: Outbound) {
  socket.on('error', () => undefined)
  if (!auth.proxy(req)) {
    writeRawError(socket, proxyAuthRequired(), { 'proxy-authenticate': 'Bearer' })
    return
  }
  let workerKey: string
  try {
    workerKey = workerKeyFromHost(req.url ?? '')
  } catch (err) {
    writeRawError(socket, err)
    return
  }
  await out.tunnel(socket, head, workerKey)
}

/** `?from=&to=` as ms since the epoch; anything else is a bad request. */
function periodQuery(url: string): { from?: number; to?: number } {
  const params = new URL(url, 'http://api').searchParams
  const out: { from?: number; to?: number } = {}
  for (const name of ['from', 'to'] as const) {
    const v = params.get(name)
    if (v === null) continue
    if (!/^\d{1,16}$/.test(v)) {
      throw new PRouterError(
        'ERR_API_BAD_REQUEST',
        `${name} must be ms since the epoch, got "${v.slice(0, 40)}"`,
      )
    }
    out[name] = Number(v)
  }
  return out
}

function decodeName(raw: string): string {
  try {
    return decodeURIComponent(raw)
  } catch {
    throw new PRouterError(
      'ERR_API_BAD_REQUEST',
      `worker name "${raw.slice(0, 100)}" is not valid percent-encoding`,
    )
  }
}

/** An absolute-form target (`http://<worker>.prouter/path`); https is refused: TLS goes through CONNECT. */
function parseProxyUrl(url: string): URL {
  let target: URL
  try {
    target = new URL(url)
  } catch {
    throw new PRouterError('ERR_API_BAD_REQUEST', `proxy target "${url.slice(0, 100)}" is not a URL`)
  }
  if (target.protocol !== 'http:') {
    throw new PRouterError(
      'ERR_API_BAD_REQUEST',
      `the forward proxy takes http:// URLs; use CONNECT for ${target.protocol}`,
    )
  }
  return target
}

function health(res: ServerResponse, c: ApiComponents): void {
  const h = c.health()
  json(res, h.ok ? 200 : 503, h)
}

function json(res: ServerResponse, status: number, body: object): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

function listen(server: Server, init: ApiInit, log: Logger): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen({ host: init.host, port: init.port }, () => {
      server.off('error', reject)
      const address = server.address() as net.AddressInfo
      const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
      const url = `http://${host}:${address.port}`
      log.info({ url }, 'API listening')
      resolve(url)
    })
  })
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => {
      resolve()
    })
    server.closeAllConnections()
  })
}
