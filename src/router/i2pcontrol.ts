/**
 * I2PControl client: JSON-RPC 2.0 over HTTPS with the router's self-signed certificate, pinned
 * (the certificate is the only trust anchor; its name is not checked, it is not a public host).
 *
 *   -> {"jsonrpc":"2.0","id":1,"method":"Authenticate","params":{"API":1,"Password":"…"}}
 *   <- {"id":1,"result":{"API":1,"Token":"…"},"jsonrpc":"2.0"}
 *   -> {"jsonrpc":"2.0","id":2,"method":"RouterInfo","params":{"Token":"…","i2p.router.uptime":null,…}}
 */
import { request } from 'node:https'
import { PRouterError } from '../errors.js'
import { DEFAULT_I2PCONTROL_TIMEOUT } from '../constants.js'
import { deadlineSignal, isTimeoutReason } from '../signals.js'

export interface I2pControlInit {
  host: string
  port: number
  password: string
  /** PEM of the router's certificate, pinned. */
  certPem: string
  timeout?: number
}

/** Router-wide figures from `RouterInfo` (numbers as i2pd reports them; bandwidth in bytes/s). */
export interface RouterStats {
  version: string
  uptimeMs: number
  /** 0 OK, 1 firewalled, 2 unknown, 3 proxy, 4 mesh (i2pd's RouterStatus). */
  netStatus: number
  netStatusName: string
  /** true once the router's shared client destination has its tunnels. */
  clientTunnelsReady: boolean
  knownPeers: number
  activePeers: number
  participatingTunnels: number
  tunnelSuccessRate: number
  receivedBytes: number
  sentBytes: number
  inboundBps: number
  outboundBps: number
}

export interface I2pControlClient {
  routerInfo(options?: { signal?: AbortSignal }): Promise<RouterStats>
  call(method: string, params: Record<string, unknown>, options?: { signal?: AbortSignal }): Promise<unknown>
}

const NET_STATUS_NAMES = ['OK', 'Firewalled', 'Unknown', 'Proxy', 'Mesh']

const STAT_KEYS = {
  version: 'i2p.router.version',
  uptimeMs: 'i2p.router.uptime',
  netStatus: 'i2p.router.net.status',
  status: 'i2p.router.status',
  knownPeers: 'i2p.router.netdb.knownpeers',
  activePeers: 'i2p.router.netdb.activepeers',
  participatingTunnels: 'i2p.router.net.tunnels.participating',
  tunnelSuccessRate: 'i2p.router.net.tunnels.successrate',
  receivedBytes: 'i2p.router.net.total.received.bytes',
  sentBytes: 'i2p.router.net.total.sent.bytes',
  inboundBps: 'i2p.router.net.bw.inbound.15s',
  outboundBps: 'i2p.router.net.bw.outbound.15s',
} as const

export function createI2pControlClient(init: I2pControlInit): I2pControlClient {
  let token: string | undefined
  let nextId = 1
  const timeout = init.timeout ?? DEFAULT_I2PCONTROL_TIMEOUT

  const rpc = async (
    method: string,
    params: Record<string, unknown>,
    signal?: AbortSignal,
  ): Promise<unknown> => {
    const body = JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, params })
    const deadline = deadlineSignal(timeout, signal)
    try {
      return resultOf(await post(init, body, deadline.signal), method, init)
    } finally {
      deadline.dispose()
    }
  }

  const authenticate = async (signal?: AbortSignal): Promise<string> => {
    const result = (await rpc('Authenticate', { API: 1, Password: init.password }, signal)) as {
      Token?: unknown
    }
    if (typeof result.Token !== 'string') {
      throw new PRouterError('ERR_I2PCONTROL_AUTH', `I2PControl ${init.host}:${init.port} gave no token`)
    }
    return result.Token
  }

  const call = async (
    method: string,
    params: Record<string, unknown>,
    options: { signal?: AbortSignal } = {},
  ) => {
    options.signal?.throwIfAborted()
    token ??= await authenticate(options.signal)
    try {
      return await rpc(method, { ...params, Token: token }, options.signal)
    } catch (err) {
      if (!(err instanceof PRouterError) || err.code !== 'ERR_I2PCONTROL_AUTH') throw err
      token = await authenticate(options.signal) // token expired or router restarted
      return rpc(method, { ...params, Token: token }, options.signal)
    }
  }

  const routerInfo = async (options: { signal?: AbortSignal } = {}): Promise<RouterStats> => {
    const params = Object.fromEntries(Object.values(STAT_KEYS).map((k) => [k, null]))
    return toRouterStats((await call('RouterInfo', params, options)) as Record<string, unknown>)
  }

  return { routerInfo, call }
}

export function toRouterStats(r: Record<string, unknown>): RouterStats {
  const num = (k: string): number => Number(r[k] ?? NaN)
  const netStatus = num(STAT_KEYS.netStatus)
  return {
    version: stringOf(r[STAT_KEYS.version]),
    uptimeMs: num(STAT_KEYS.uptimeMs),
    netStatus,
    netStatusName: NET_STATUS_NAMES[netStatus] ?? `status ${netStatus}`,
    clientTunnelsReady: r[STAT_KEYS.status] === '1' || r[STAT_KEYS.status] === 1,
    knownPeers: num(STAT_KEYS.knownPeers),
    activePeers: num(STAT_KEYS.activePeers),
    participatingTunnels: num(STAT_KEYS.participatingTunnels),
    tunnelSuccessRate: num(STAT_KEYS.tunnelSuccessRate),
    receivedBytes: num(STAT_KEYS.receivedBytes),
    sentBytes: num(STAT_KEYS.sentBytes),
    inboundBps: num(STAT_KEYS.inboundBps),
    outboundBps: num(STAT_KEYS.outboundBps),
  }
}

function stringOf(v: unknown): string {
  return typeof v === 'string' ? v : ''
}

function resultOf(reply: unknown, method: string, init: I2pControlInit): unknown {
  const r = reply as { result?: unknown; error?: { code?: number; message?: string } }
  if (r.error !== undefined) {
    const auth = r.error.code !== undefined && r.error.code <= -32001 && r.error.code >= -32004
    throw new PRouterError(
      auth ? 'ERR_I2PCONTROL_AUTH' : 'ERR_I2PCONTROL',
      `I2PControl ${init.host}:${init.port} ${method}: ${r.error.message ?? 'error'} (${String(r.error.code)})`,
      { detail: { rpcCode: r.error.code } },
    )
  }
  if (typeof r.result !== 'object' || r.result === null) {
    throw new PRouterError('ERR_I2PCONTROL', `I2PControl ${init.host}:${init.port} ${method}: no result`)
  }
  return r.result
}

function post(init: I2pControlInit, body: string, signal: AbortSignal): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const fail = (cause: unknown): void => {
      if (signal.aborted && !isTimeoutReason(signal.reason)) {
        reject(signal.reason as Error) // the caller's abort, not a failure of I2PControl
        return
      }
      reject(
        new PRouterError('ERR_I2PCONTROL', `I2PControl ${init.host}:${init.port} unreachable`, { cause }),
      )
    }
    const req = request(
      {
        host: init.host,
        port: init.port,
        method: 'POST',
        path: '/',
        ca: init.certPem,
        checkServerIdentity: () => undefined,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        signal,
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('error', fail)
        res.on('end', () => {
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')))
          } catch (cause) {
            fail(cause)
          }
        })
      },
    )
    req.on('error', fail)
    req.end(body)
  })
}
