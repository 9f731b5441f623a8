/**
 * Messages vs stream requests, in one run per hop count on a fresh local PRouter network (4 testnet routers;
 * alice and bob with their own routers, messages enabled, each daemon its own `prouter run` process as
 * operators run it; BENCH_DAEMONS=inprocess runs both inside this process instead). Alternating, from alice
 * to bob by key:
 *
 *   - a 1 KiB stream request (POST through alice's API to bob's service, kept-alive; alice's
 *     `outbound.datagramRequests` off, so it does go over a stream; BENCH_DATAGRAM_REQUESTS=1: over datagrams) and
 *   - a 1 KiB message acknowledged by bob's service (POST /v1/messages, mode=ack)
 *
 * then a burst of 1,000 queued messages: how long until bob's service has them all, lost and duplicated.
 * A script that prints figures, not a test.
 *
 *   npm run bench:messages                         (isolated in a network namespace)
 *   BENCH_HOPS=1,3 BENCH_RTTS=200 npm run bench:messages
 */
import { mkdtemp, rm } from 'node:fs/promises'
import http, { Agent } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { saveResults } from './results-file.js'
import { createLogger } from '../src/logger.js'
import { defaultCacheDir, resolveI2pd, type I2pdBinary } from '../src/router/binary.js'
import { runWorkerProcess, type WorkerProcess } from '../src/testnet/worker-process.js'
import { createWorkerNet, type WorkerNet } from '../src/testnet/workers.js'
import { percentile } from '../src/testnet/measure.js'
import { sleep } from '../src/signals.js'

const HOPS = (process.env.BENCH_HOPS ?? '3').split(',').map(Number)
const RTTS = Number(process.env.BENCH_RTTS ?? 200)
const BURST = Number(process.env.BENCH_BURST ?? 1000)
const PROCESSES = process.env.BENCH_DAEMONS !== 'inprocess'
/** alice's `outbound.datagramRequests`: off, the request row measures a stream. */
const DATAGRAM_REQUESTS = process.env.BENCH_DATAGRAM_REQUESTS === '1'
const logger = createLogger({ level: process.env.PROUTER_LOG_LEVEL ?? 'warn' })
const agent = new Agent({ keepAlive: true, maxSockets: 64 })

type Row = Record<string, string | number>

async function main(): Promise<void> {
  const binary = await resolveI2pd(
    { cacheDir: process.env.PROUTER_CACHE_DIR ?? defaultCacheDir(), explicitPath: process.env.PROUTER_I2PD },
    { logger },
  )
  const rows: Row[] = []
  for (const hops of HOPS) rows.push(...(await benchHops(binary, hops)))
  const daemons = PROCESSES ? 'each daemon its own process' : 'both daemons in the bench process'
  console.log(
    `\nPRouter messages benchmark: i2pd ${binary.version}, ${daemons}, ${RTTS} of each, alternating (ms)\n`,
  )
  console.log('| hops | what | p50 | p99 | note |\n|---|---|---|---|---|')
  for (const row of rows) console.log(`| ${row.hops} | ${row.what} | ${row.p50} | ${row.p99} | ${row.note} |`)
  await saveResults('messages', { i2pd: binary.version, daemons, rows })
}

/** Bob's service: 200 to any request, and every message id recorded (with when it arrived). */
async function service(): Promise<{ url: string; ids: string[]; arrivals: number[]; close: () => void }> {
  const ids: string[] = []
  const arrivals: number[] = []
  const server = http.createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      if (req.url === '/prouter/messages') {
        ids.push(String(req.headers['x-prouter-message-id']))
        arrivals.push(performance.now())
      }
      res.writeHead(200, { 'content-length': 2 }).end('ok')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return { url: `http://127.0.0.1:${port}`, ids, arrivals, close: () => server.close() }
}

async function benchHops(binary: I2pdBinary, hops: number): Promise<Row[]> {
  const dir = await mkdtemp(join(tmpdir(), 'prouter-bench-messages-'))
  const svc = await service()
  const messages = { enabled: true }
  const outbound = { datagramRequests: DATAGRAM_REQUESTS }
  const net = await createWorkerNet(
    {
      dir,
      binary,
      hops,
      workers: [
        {
          name: 'alice',
          suri: '//Alice',
          router: 'managed',
          config: { messages, outbound },
          start: !PROCESSES,
        },
        {
          name: 'bob',
          suri: '//Bob',
          router: 'managed',
          config: { messages, service: { url: svc.url } },
          start: !PROCESSES,
        },
      ],
    },
    { logger },
  )
  const processes: WorkerProcess[] = []
  try {
    if (PROCESSES)
      for (const name of ['bob', 'alice']) processes.push(await runWorkerProcess(net, net.worker(name)))
    const alice = processes.at(-1) ?? inProcess(net)
    return await measure({ net, alice }, svc, hops)
  } finally {
    for (const p of processes) await p.stop()
    await net.destroy()
    svc.close()
    await rm(dir, { recursive: true, force: true })
  }
}

/** Where alice's API is and its token: what the bench posts to. */
interface Api {
  apiUrl: string
  token: string
}

function inProcess(net: WorkerNet): Api {
  const daemon = net.worker('alice').daemon
  if (daemon === undefined) throw new Error('alice runs no daemon')
  return { apiUrl: daemon.apiUrl, token: daemon.config.api.token }
}

async function measure(
  { net, alice }: { net: WorkerNet; alice: Api },
  svc: { ids: string[]; arrivals: number[] },
  hops: number,
): Promise<Row[]> {
  const bob = net.worker('bob').workerKey
  const body = Buffer.alloc(1024, 0x61)
  const stream = (): Promise<Answer> => post(alice, `/v1/workers/${bob}/hello`, body)
  const message = (): Promise<Answer> => post(alice, `/v1/messages/${bob}`, body)
  for (let i = 0; i < 20; i++) await Promise.all([stream(), message()]) // warm: streams open, LeaseSets known
  const times = { stream: [] as number[], message: [] as number[], failed: 0 }
  for (let i = 0; i < RTTS; i++) {
    for (const [what, call] of [
      ['stream', stream],
      ['message', message],
    ] as const) {
      const t0 = performance.now()
      const answer = await call()
      if (answer.status !== 200) times.failed++
      else times[what].push(performance.now() - t0)
    }
  }
  const burst = await measureBurst(alice, bob, svc)
  const row = (what: string, samples: number[], note: string): Row => ({
    hops,
    what,
    p50: r(percentile(samples, 50)),
    p99: r(percentile(samples, 99)),
    note,
  })
  return [
    row(
      DATAGRAM_REQUESTS ? 'request over datagrams, 1 KiB' : 'stream request, 1 KiB',
      times.stream,
      `${times.stream.length} ok`,
    ),
    row(
      'message acknowledged, 1 KiB',
      times.message,
      `${times.message.length} ok, ${times.failed} failed (both kinds)`,
    ),
    { hops, what: `${BURST} messages, burst`, p50: '', p99: '', note: burst },
  ]
}

async function measureBurst(
  alice: Api,
  bob: string,
  svc: { ids: string[]; arrivals: number[] },
): Promise<string> {
  const { ids } = svc
  const before = ids.length
  const sent = new Set<string>()
  const queue = Array.from({ length: BURST }, (_, n) => n)
  const t0 = performance.now()
  const client = async (): Promise<void> => {
    for (let n = queue.shift(); n !== undefined; n = queue.shift()) {
      const answer = await post(alice, `/v1/messages/${bob}?mode=queued`, Buffer.from(`burst ${n}`))
      if (answer.status === 202) sent.add((JSON.parse(answer.body) as { id: string }).id)
    }
  }
  await Promise.all(Array.from({ length: 32 }, client))
  const queued = performance.now() - t0
  // a Set per poll: scanning the array for each id would cost this process (on the daemons' cores) ~1M
  // string comparisons every 50 ms near the end of the burst
  const all = (): boolean => {
    const arrived = new Set(ids.slice(before))
    return [...sent].every((id) => arrived.has(id))
  }
  while (!all() && performance.now() - t0 < 300_000) await sleep(50)
  const done = performance.now() - t0
  await sleep(5000) // late duplicates
  const got = ids.slice(before).filter((id) => sent.has(id))
  const gotSet = new Set(got)
  const lost = [...sent].filter((id) => !gotSet.has(id)).length
  const duplicated = got.length - gotSet.size
  const arrived = svc.arrivals.slice(before).map((at) => at - t0)
  const share = (q: number): string =>
    `${q}% after ${r(arrived[Math.ceil((q / 100) * arrived.length) - 1] ?? NaN)} ms`
  return (
    `${sent.size} queued in ${r(queued)} ms; at the service after ${r(done)} ms ` +
    `(${Math.round(sent.size / (done / 1000))} msg/s; ${[10, 50, 90].map(share).join(', ')}); ` +
    `lost ${lost}, duplicated ${duplicated}`
  )
}

interface Answer {
  status: number
  body: string
}

function post(alice: Api, path: string, body: Buffer): Promise<Answer> {
  const url = new URL(path, alice.apiUrl)
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method: 'POST',
      agent,
      headers: { authorization: `Bearer ${alice.token}`, 'content-length': body.length },
    })
    req.on('response', (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => (text += c))
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body: text })
      })
    })
    req.on('error', reject)
    req.end(body)
  })
}

function r(v: number): number {
  return Math.round(v * 10) / 10
}

await main()
