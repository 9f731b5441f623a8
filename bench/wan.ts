/**
 * PRouter on an emulated internet: per WAN profile (continental, lossy …) a fresh NAT testnet of BENCH_ROUTERS
 * routers in namespaces linked through the user-space WAN forwarder, alice and BENCH_CALLEES workers attached to
 * public routers (in-process daemons), and charlie behind his own NAT running `prouter run` with his own i2pd.
 * Each latency is printed beside its path floor: the one-way link delays a round trip must cross at least,
 * 2 x (outbound hops + 1 + inbound hops) links x the profile's mean link delay.
 *
 *   - first request to a never-called worker, warm paths on (alice -> each callee once)
 *   - warm request (alice -> callee 1, kept alive, BENCH_RTTS sequential)
 *   - 1,000 requests, 10 at a time (errors, p50/p99)
 *   - 200 concurrent
 *   - bulk: 1 MiB POST echoed
 *   - charlie: prouter run start -> alice gets an answer by key
 *
 *   npm run bench:wan                              (isolated; root)
 *   BENCH_WAN=lossy BENCH_ROUTERS=16 BENCH_CALLEES=8 npm run bench:wan
 *   BENCH_BULK=0 (no bulk transfers: on lossy links each 1 MiB takes minutes)
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { Agent, request } from 'node:http'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { saveResults } from './results-file.js'
import { createLogger } from '../src/logger.js'
import { defaultCacheDir, resolveI2pd, type I2pdBinary } from '../src/router/binary.js'
import { createWorkerNet, type WorkerNet, type WorkerSpec } from '../src/testnet/workers.js'
import { runWorkerProcess } from '../src/testnet/worker-process.js'
import { percentile } from '../src/testnet/measure.js'
import { linkTable, type WanProfile } from '../src/testnet/wan/profile.js'
import { loadWanProfile } from '../src/testnet/wan/profile-file.js'
import { sleep } from '../src/signals.js'

const PROFILES = (process.env.BENCH_WAN ?? 'continental,lossy').split(',')
const ROUTERS = Number(process.env.BENCH_ROUTERS ?? 12)
const CALLEES = Number(process.env.BENCH_CALLEES ?? 5)
const HOPS = Number(process.env.BENCH_HOPS ?? 3)
const RTTS = Number(process.env.BENCH_RTTS ?? 200)
const MANY = 1000
const BULK = Number(process.env.BENCH_BULK ?? 3)
const logger = createLogger({ level: process.env.PROUTER_LOG_LEVEL ?? 'warn' })
const HIGH_LIMITS = { inbound: { rateLimit: { perSecond: 5000, burst: 5000 } } }

type Row = Record<string, string | number>
interface Timed {
  ms: number
  status: number
}

async function main(): Promise<void> {
  const binary = await resolveI2pd(
    { cacheDir: process.env.PROUTER_CACHE_DIR ?? defaultCacheDir(), explicitPath: process.env.PROUTER_I2PD },
    { logger },
  )
  const rows: Row[] = []
  for (const name of PROFILES) rows.push(...(await benchProfile(binary, await loadWanProfile(name))))
  print(binary, rows)
  await saveResults('wan', { i2pd: binary.version, routers: ROUTERS, callees: CALLEES, hops: HOPS, rows })
}

function workers(): WorkerSpec[] {
  const callees = Array.from({ length: CALLEES }, (_, i) => ({
    name: `c${i + 1}`,
    suri: `//Callee${i + 1}`,
    router: { attach: 3 + i },
    config: HIGH_LIMITS,
  }))
  return [
    { name: 'alice', suri: '//Alice', router: { attach: 2 }, config: { warm: { interval: 10_000 } } },
    ...callees,
    { name: 'charlie', suri: '//Charlie', router: 'managed', start: false, config: HIGH_LIMITS },
  ]
}

async function benchProfile(binary: I2pdBinary, wan: WanProfile): Promise<Row[]> {
  const dir = await mkdtemp(join(tmpdir(), 'prouter-bench-wan-'))
  const t0 = performance.now()
  const net = await createWorkerNet(
    { dir, binary, hops: HOPS, network: 'nat', wan, routers: ROUTERS, workers: workers() },
    { logger },
  )
  const upMs = performance.now() - t0
  try {
    return await measure(net, wan, upMs)
  } finally {
    await net.destroy()
    await rm(dir, { recursive: true, force: true })
  }
}

/** 2 x (hops out + 1 + hops in) link crossings x the mean one-way delay of the profile's router links. */
function pathFloorMs(wan: WanProfile): number {
  const links = linkTable(
    wan,
    Array.from({ length: ROUTERS }, (_, i) => `r${i}`),
  )
  const mean = links.reduce((s, l) => s + l.delayMs, 0) / links.length
  return 2 * (HOPS + 1 + HOPS) * mean
}

async function measure(net: WorkerNet, wan: WanProfile, upMs: number): Promise<Row[]> {
  const tag = `${net.testnet.state.wan ?? '?'}, ${HOPS} hops`
  const floor = pathFloorMs(wan)
  const alice = clientOf(net, 'alice')
  const callees = net.workers.filter((w) => /^c\d+$/.test(w.name))
  const charlieStart = performance.now()
  const charlie = await runWorkerProcess(net, net.worker('charlie'))
  try {
    const reaching = untilAnswer(alice, charlie.workerKey, charlieStart)
    await sleep(15_000) // alice's warmer reads the registry and fetches the callees' LeaseSets
    const reach = await reaching
    const first: Timed[] = []
    for (const c of callees) first.push(await alice.get(c.workerKey, '/hello'))
    const target = callees[0]?.workerKey ?? ''
    const warm = await series(RTTS, () => alice.get(target, '/hello'))
    const many = await batches(MANY, 10, () => alice.get(target, '/hello'))
    const burst = await batches(200, 200, () => alice.get(target, '/hello'))
    const bulk = await series(BULK, () => alice.post(target, '/echo', randomBytes(1024 * 1024)))
    const routerRss = await sumRss(net.testnet.routers.map((r) => r.pid ?? 0))
    const ratio = (ms: number) => `${(ms / floor).toFixed(2)}x floor`
    const firstMs = first.map((f) => f.ms)
    return [
      row(`testnet up (${ROUTERS} routers, ${net.workers.length} workers), ${tag}`, upMs, '-', floor, ''),
      row(
        `first request to a never-called worker, warm paths on, ${tag}`,
        percentile(firstMs, 50),
        percentile(firstMs, 99),
        floor,
        `${ratio(percentile(firstMs, 50))}; ${first.length} callees; errors ${first.filter((f) => f.status !== 200).length}`,
      ),
      row(
        `warm request, ${tag}`,
        percentile(warm.ms, 50),
        percentile(warm.ms, 99),
        floor,
        `${ratio(percentile(warm.ms, 50))}; p99/p50 ${(percentile(warm.ms, 99) / percentile(warm.ms, 50)).toFixed(2)}; errors ${warm.errors}/${RTTS}`,
      ),
      row(
        `${MANY} requests, 10 at a time, ${tag}`,
        percentile(many.ms, 50),
        percentile(many.ms, 99),
        floor,
        `${ratio(percentile(many.ms, 50))}; p99/p50 ${(percentile(many.ms, 99) / percentile(many.ms, 50)).toFixed(2)}; errors ${many.errors}/${MANY}`,
      ),
      row(
        `200 concurrent, ${tag}`,
        percentile(burst.ms, 50),
        percentile(burst.ms, 99),
        floor,
        `errors ${burst.errors}; all done in ${Math.round(burst.wallMs)} ms`,
      ),
      row(
        `bulk 1 MiB POST echoed, ${tag}`,
        percentile(bulk.ms, 50),
        Math.max(...bulk.ms),
        floor,
        `${(2 / (percentile(bulk.ms, 50) / 1000)).toFixed(2)} MiB/s both ways; errors ${bulk.errors}`,
      ),
      row(
        `NAT-ed managed worker: prouter run start -> reachable by key, ${tag}`,
        reach,
        '-',
        floor,
        `ready line after ${Math.round(charlie.readyMs)} ms`,
      ),
      row(
        `load`,
        0,
        '-',
        floor,
        `load average ${loadavg()
          .map((v) => v.toFixed(2))
          .join(' ')}; i2pd RSS total ${(routerRss / 1048576).toFixed(0)} MiB`,
      ),
    ]
  } finally {
    await charlie.stop()
  }
}

function row(what: string, p50: number, p99: number | string, floor: number, note: string): Row {
  const r = (v: number) => Math.round(v)
  return { what, p50: r(p50), p99: typeof p99 === 'number' ? r(p99) : p99, floor: r(floor), note }
}

async function untilAnswer(client: Client, workerKey: string, since: number): Promise<number> {
  while (performance.now() - since < 180_000) {
    if ((await client.get(workerKey, '/hello')).status === 200) return performance.now() - since
    await sleep(250)
  }
  return NaN
}

interface Client {
  get(workerKey: string, path: string): Promise<Timed>
  post(workerKey: string, path: string, body: Buffer): Promise<Timed>
}

function clientOf(net: WorkerNet, name: string): Client {
  const daemon = net.worker(name).daemon
  if (daemon === undefined) throw new Error(`${name} runs no daemon`)
  const agent = new Agent({ keepAlive: true, maxSockets: 200 })
  const headers = { authorization: `Bearer ${daemon.config.api.token}` }
  const url = (key: string, path: string) => new URL(`/v1/workers/${key}${path}`, daemon.apiUrl)
  return {
    get: (key, path) => timed(() => send(url(key, path), 'GET', headers, agent)),
    post: (key, path, body) => timed(() => send(url(key, path), 'POST', headers, agent, body)),
  }
}

async function timed(fn: () => Promise<number>): Promise<Timed> {
  const t0 = performance.now()
  const status = await fn().catch(() => 0)
  return { ms: performance.now() - t0, status }
}

function send(
  url: URL,
  method: string,
  headers: Record<string, string>,
  agent: Agent,
  body?: Buffer,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, agent }, (res) => {
      res.resume()
      res.on('end', () => {
        resolve(res.statusCode ?? 0)
      })
    })
    req.setTimeout(120_000, () => req.destroy(new Error('timeout')))
    req.on('error', reject)
    req.end(body)
  })
}

async function series(n: number, fn: () => Promise<Timed>): Promise<{ ms: number[]; errors: number }> {
  const ms: number[] = []
  let errors = 0
  for (let i = 0; i < n; i++) {
    const one = await fn()
    ms.push(one.ms)
    if (one.status !== 200) errors++
  }
  return { ms, errors }
}

/** `n` requests, `width` in flight at a time. */
async function batches(n: number, width: number, fn: () => Promise<Timed>) {
  const t0 = performance.now()
  const all: Timed[] = []
  for (let i = 0; i < n; i += width)
    all.push(...(await Promise.all(Array.from({ length: Math.min(width, n - i) }, fn))))
  return {
    ms: all.map((a) => a.ms),
    errors: all.filter((a) => a.status !== 200).length,
    wallMs: performance.now() - t0,
  }
}

async function sumRss(pids: readonly number[]): Promise<number> {
  let total = 0
  for (const pid of pids) {
    const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '')
    total += Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024
  }
  return total
}

function print(binary: I2pdBinary, rows: Row[]): void {
  console.log(
    `\nPRouter on an emulated WAN: i2pd ${binary.version}, ${ROUTERS} routers, ${HOPS} hops each way (ms)\n`,
  )
  console.log('| what | p50 | p99 | path floor | note |\n|---|---|---|---|---|')
  for (const r of rows) console.log(`| ${r.what} | ${r.p50} | ${r.p99} | ${r.floor} | ${r.note} |`)
}

await main()
