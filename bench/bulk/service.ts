/**
 * The service bob's daemon relays to in the bulk benchmark, on loopback:
 *
 *   GET  /blob          the payload (200), or one range of it for `Range: bytes=a-b` (206)
 *   POST /sink          reads the body; answers {"bytes": n, "sha256": hex}
 *   GET  /hold?ms=N     answers after N ms (holds a stream, so N at once open N streams)
 */
import { createHash } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { listenLoopback, type LoopbackHttp } from '../../src/testnet/loopback-http.js'

export type BulkService = LoopbackHttp

export function startBulkService(payload: Buffer): Promise<BulkService> {
  const server = createServer({ requestTimeout: 0 }, (req, res) => {
    handle(payload, req, res)
  })
  return listenLoopback(server)
}

function handle(payload: Buffer, req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://service.invalid')
  if (url.pathname === '/blob' && req.method === 'GET') {
    blob(payload, req, res)
  } else if (url.pathname === '/sink' && req.method === 'POST') {
    sink(req, res)
  } else if (url.pathname === '/hold') {
    req.resume()
    const timer = setTimeout(() => res.end('held'), Number(url.searchParams.get('ms') ?? 0))
    res.once('close', () => {
      clearTimeout(timer)
    })
  } else {
    req.resume()
    res.writeHead(404).end()
  }
}

function blob(payload: Buffer, req: IncomingMessage, res: ServerResponse): void {
  req.resume()
  const range = parseRange(req.headers.range, payload.length)
  if (range === undefined) {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': payload.length })
    res.end(payload)
    return
  }
  const [start, end] = range
  res.writeHead(206, {
    'content-type': 'application/octet-stream',
    'content-length': end - start + 1,
    'content-range': `bytes ${start}-${end}/${payload.length}`,
  })
  res.end(payload.subarray(start, end + 1))
}

/** `bytes=a-b` (both given, within the payload) -> [a, b]; anything else serves the whole payload. */
function parseRange(header: string | undefined, size: number): [number, number] | undefined {
  const m = /^bytes=(\d+)-(\d+)$/.exec(header ?? '')
  if (m === null) return undefined
  const start = Number(m[1])
  const end = Math.min(Number(m[2]), size - 1)
  return start <= end ? [start, end] : undefined
}

function sink(req: IncomingMessage, res: ServerResponse): void {
  const hash = createHash('sha256')
  let bytes = 0
  req.on('data', (chunk: Buffer) => {
    hash.update(chunk)
    bytes += chunk.length
  })
  req.on('end', () => {
    const body = JSON.stringify({ bytes, sha256: hash.digest('hex') })
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
    res.end(body)
  })
}
