/**
 * Bulk HTTP exchanges with the bench service (directly, or through a daemon's API), checked by sha256:
 * a POST of a body to /sink (the service answers the digest it computed) and a GET of /blob or of a range.
 * Each resolves with its elapsed ms: from the request's start to the answer's last byte.
 */
import { createHash } from 'node:crypto'
import { request, type Agent, type IncomingMessage } from 'node:http'
import { sha256, writeAll } from './wire.js'

export interface HttpTarget {
  /** Base URL the paths are appended to, e.g. `http://127.0.0.1:7620/v1/workers/0x…`. */
  base: string
  headers: Record<string, string>
  agent: Agent
  /** Deadline of one exchange, in ms. */
  timeout: number
}

export async function postBody(target: HttpTarget, body: Buffer): Promise<number> {
  const t0 = performance.now()
  const req = open(target, 'POST', '/sink', { 'content-length': String(body.length) })
  const answered = responseOf(req)
  await writeAll(req, body)
  req.end()
  const res = await answered
  const text = (await readAll(res)).toString('utf8')
  const ms = performance.now() - t0
  if (res.statusCode !== 200) throw new Error(`POST /sink answered ${res.statusCode}: ${text.slice(0, 200)}`)
  const answer = JSON.parse(text) as { bytes: number; sha256: string }
  if (answer.bytes !== body.length || answer.sha256 !== sha256(body).toString('hex')) {
    throw new Error(`POST of ${body.length} bytes: the service got ${answer.bytes}, sha256 mismatch`)
  }
  return ms
}

/** GET /blob, whole (`range` undefined) or `[offset, length]` of it; checks the bytes against `payload`. */
export async function getBlob(
  target: HttpTarget,
  payload: Buffer,
  range?: [number, number],
): Promise<number> {
  const [offset, length] = range ?? [0, payload.length]
  const headers: Record<string, string> =
    range === undefined ? {} : { range: `bytes=${offset}-${offset + length - 1}` }
  const t0 = performance.now()
  const req = open(target, 'GET', '/blob', headers)
  const answered = responseOf(req)
  req.end()
  const res = await answered
  const expected = range === undefined ? 200 : 206
  if (res.statusCode !== expected) {
    const text = (await readAll(res)).toString('utf8')
    throw new Error(`GET /blob answered ${res.statusCode}: ${text.slice(0, 200)}`)
  }
  const hash = createHash('sha256')
  let bytes = 0
  for await (const chunk of res as AsyncIterable<Buffer>) {
    hash.update(chunk)
    bytes += chunk.length
  }
  const ms = performance.now() - t0
  if (bytes !== length || !hash.digest().equals(sha256(payload.subarray(offset, offset + length)))) {
    throw new Error(`GET of ${length} bytes at ${offset}: got ${bytes}, sha256 mismatch`)
  }
  return ms
}

/** GET `path` and drain the answer (warming streams); resolves with the status. */
export async function getStatus(target: HttpTarget, path: string): Promise<number> {
  const req = open(target, 'GET', path, {})
  const answered = responseOf(req)
  req.end()
  const res = await answered
  await readAll(res)
  return res.statusCode ?? 0
}

function open(target: HttpTarget, method: string, path: string, headers: Record<string, string>) {
  const req = request(`${target.base}${path}`, {
    method,
    agent: target.agent,
    headers: { ...target.headers, ...headers },
  })
  req.setTimeout(target.timeout, () =>
    req.destroy(new Error(`${method} ${path}: no byte for ${target.timeout} ms`)),
  )
  return req
}

function responseOf(req: ReturnType<typeof request>): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    req.once('response', resolve)
    req.once('error', reject)
  })
}

async function readAll(res: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = []
  for await (const chunk of res as AsyncIterable<Buffer>) parts.push(chunk)
  return Buffer.concat(parts)
}
