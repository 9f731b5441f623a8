/** Talking to a daemon's local API in tests: requests with the token, raw HTTP over a stream, a spawned `prouter run`. */
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { request } from 'node:http'
import type { Duplex } from 'node:stream'
import { createInterface } from 'node:readline'
import type { Daemon } from '../../src/daemon/daemon.js'

export interface Answer {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: Buffer
  json: () => Record<string, unknown>
}

export interface Api {
  url: string
  token: string
}

export function apiOf(daemon: Daemon): Api {
  return { url: daemon.apiUrl, token: daemon.config.api.token }
}

/** One request to a local API (the token unless `token: null`), bounded by `timeout`. */
export function call(
  api: Api,
  method: string,
  path: string,
  options: { body?: Buffer; headers?: Record<string, string>; token?: string | null; timeout?: number } = {},
): Promise<Answer> {
  const base = new URL(api.url)
  const auth = options.token === null ? {} : { authorization: `Bearer ${options.token ?? api.token}` }
  return new Promise((resolve, reject) => {
    const target = { host: base.hostname, port: base.port, path } // an absolute URL as path: forward-proxy form
    const req = request({ ...target, method, headers: { ...auth, ...options.headers } }, (res) => {
      const parts: Buffer[] = []
      res.on('data', (c: Buffer) => parts.push(c))
      res.on('error', reject)
      res.on('end', () => {
        const body = Buffer.concat(parts)
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body,
          json: () => JSON.parse(body.toString('utf8')) as Record<string, unknown>,
        })
      })
    })
    req.setTimeout(options.timeout ?? 60_000, () =>
      req.destroy(new Error(`${method} ${path}: no answer in time`)),
    )
    req.on('error', reject)
    req.end(options.body)
  })
}

/** Write one raw HTTP/1.1 request on `stream` and read the answer's status line and body (until close). */
export async function rawHttp(
  stream: Duplex,
  head: string,
  timeout = 30_000,
): Promise<{ status: number; text: string }> {
  const parts: Buffer[] = []
  stream.on('data', (c: Buffer) => parts.push(c))
  stream.write(`${head}\r\nconnection: close\r\n\r\n`)
  const timer = setTimeout(() => stream.destroy(), timeout)
  await once(stream, 'close').catch(() => undefined)
  clearTimeout(timer)
  const text = Buffer.concat(parts).toString('utf8')
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0)
  return { status, text: text.slice(text.indexOf('\r\n\r\n') + 4) }
}

/** `prouter run --json` as a child process; resolves with its ready line once it printed it. */
export async function spawnDaemon(
  configFile: string,
  timeout = 120_000,
  extraEnv: Record<string, string> = {},
): Promise<{ child: ChildProcess; ready: Record<string, unknown> }> {
  const env = { ...process.env, ...extraEnv }
  delete env.PROUTER_I2PD
  const child = spawn(process.execPath, ['dist/cli/main.js', 'run', '--config', configFile, '--json'], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })
  const timer = setTimeout(() => child.kill('SIGKILL'), timeout)
  try {
    for await (const line of lines) {
      const parsed = JSON.parse(line) as Record<string, unknown>
      if (parsed.ready === true) return { child, ready: parsed }
    }
  } finally {
    clearTimeout(timer)
  }
  throw new Error(`prouter run exited before it was ready (code ${String(child.exitCode)})`)
}
