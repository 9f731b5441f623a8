/**
 * A small worker service for the demo and the tests, standing in for pRuntime on loopback:
 *
 *   GET  /hello         {worker, caller, callerAddress, method, path}: who PRouter says called
 *   POST /echo          the request body streamed back
 *   GET  /slow?ms=N     answers after N ms
 *   GET  /bytes?n=N     N bytes
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { listenLoopback, type LoopbackHttp } from './loopback-http.js'
import { pipeline } from 'node:stream'
import { CALLER_ADDRESS_HEADER, CALLER_HEADER } from '../proxy/headers.js'

export type SampleService = LoopbackHttp

export function startSampleService(worker: string): Promise<SampleService> {
  const server = createServer((req, res) => {
    handle(worker, req, res)
  })
  return listenLoopback(server)
}

function handle(worker: string, req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://service.invalid')
  if (url.pathname === '/echo') {
    res.writeHead(200, { 'content-type': 'application/octet-stream' })
    pipeline(req, res, () => undefined)
    return
  }
  if (url.pathname === '/slow') {
    const timer = setTimeout(
      () => {
        json(res, { worker, slept: Number(url.searchParams.get('ms')) })
      },
      Number(url.searchParams.get('ms') ?? 0),
    )
    res.once('close', () => {
      clearTimeout(timer)
    })
    req.resume()
    return
  }
  if (url.pathname === '/bytes') {
    const n = Number(url.searchParams.get('n') ?? 0)
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': n })
    res.end(Buffer.alloc(n, 0x61))
    return
  }
  req.resume()
  json(res, {
    worker,
    caller: req.headers[CALLER_HEADER],
    callerAddress: req.headers[CALLER_ADDRESS_HEADER],
    method: req.method,
    path: url.pathname,
  })
}

function json(res: ServerResponse, body: object): void {
  const text = JSON.stringify(body)
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}
