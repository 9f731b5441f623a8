/**
 * Daemon benchmark, one run per hop count on a fresh local PRouter network (4 testnet routers; alice and bob
 * with their own routers; charlie as a `prouter run` process attached to a router that publishes no address):
 *
 *   - raw SAM: 64 B echo round trips between two sessions on alice's and charlie's routers (the floor PRouter
 *     adds to), and direct HTTP to charlie's service on loopback
 *   - warm request: GET through alice's API to charlie by key, kept-alive (p50/p99), and its ratio to raw SAM
 *   - first request to a known worker never called before: with warm paths (alice) and without (bob)
 *   - daemon start -> reachable: a new daemon (own i2pd) until alice gets an answer from it
 *   - 200 and 1,000 concurrent requests: errors, p50/p99 and the time until all were answered
 *   - RSS of the daemon process (charlie, run with the systemd unit's NODE_OPTIONS) right after the load and 30 s
 *     after it, and its parts
 *
 *   npm run bench                     (isolated in a network namespace; i2pd 2.56 and 2.59 in turn)
 *   BENCH_I2PD=sid npm run bench      (one Debian release's i2pd; PROUTER_I2PD=/path: one of your own)
 *   BENCH_HOPS=1,3 BENCH_RTTS=200 npm run bench
 *   BENCH_MIN_STREAMS=3 npm run bench  (alice's outbound.minStreamsPerPeer)
 *   BENCH_DATAGRAMS=1 npm run bench    (messages on for alice, bob and charlie: small requests over datagrams)
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { Agent, request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { saveResults } from './results-file.js'
import { createLogger } from '../src/logger.js'
import type { I2pdBinary } from '../src/router/binary.js'
import { benchBinaries } from './binaries.js'
import { createSamSession, type SamAddress } from '../src/sam/index.js'
import { createWorkerNet, type WorkerNet } from '../src/testnet/workers.js'
import { percentile, readExactly, serveMeasure } from '../src/testnet/measure.js'
import { loadDaemonConfig } from '../src/daemon/config.js'
import { createDaemon } from '../src/daemon/daemon.js'
import { sleep } from '../src/signals.js'
import { DEFAULT_OUTBOUND_MIN_STREAMS_PER_PEER } from '../src/constants.js'
import { call, spawnDaemon, type Api } from '../test/helpers/daemon-client.js'

const HOPS = (process.env.BENCH_HOPS ?? '3').split(',').map(Number)
const RTTS = Number(process.env.BENCH_RTTS ?? 200)
const CONCURRENT = [200, 1000]
/** Charlie's RSS is taken this long after the last burst ended (ms). */
const RSS_SETTLE = 30_000
/** alice's `outbound.minStreamsPerPeer`: streams to charlie that back-to-back requests take turns on. */
const MIN_STREAMS = Number(process.env.BENCH_MIN_STREAMS ?? DEFAULT_OUTBOUND_MIN_STREAMS_PER_PEER)
const logger = createLogger({ level: process.env.PROUTER_LOG_LEVEL ?? 'warn' })
/** The datagram session on (messages.enabled) for the callers and charlie: requests that fit go over it. */
const DATAGRAMS = process.env.BENCH_DATAGRAMS === '1'
const messages = { messages: { enabled: DATAGRAMS } }

type Row = Record<string, string | number>

async function main(): Promise<void> {
  const runs = []
  for (const binary of await benchBinaries(logger)) {
    const rows: Row[] = []
    for (const hops of HOPS) rows.push(...(await benchHops(binary, hops)))
    runs.push({ i2pd: binary.version, rows })
  }
  for (const run of runs) print(run.i2pd, run.rows)
  await saveResults('daemon', {
    node: process.version,
    minStreamsPerPeer: MIN_STREAMS,
    datagrams: DATAGRAMS,
    runs,
  })
}

async function benchHops(binary: I2pdBinary, hops: number): Promise<Row[]> {
  const dir = await mkdtemp(join(tmpdir(), 'prouter-bench-daemon-'))
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
          config: { warm: { interval: 30_000 }, outbound: { minStreamsPerPeer: MIN_STREAMS }, ...messages },
        },
        { name: 'bob', suri: '//Bob', router: 'managed', config: { warm: { peers: 'none' }, ...messages } },
        {
          name: 'charlie',
          suri: '//Charlie',
          router: { attach: 3 },
          start: false,
          // a burst of 1,000 from one caller: past the default per-caller limit (100/s, burst 200)
          config: { inbound: { rateLimit: { perSecond: 2000, burst: 2000 } }, ...messages },
        },
        { name: 'dave', suri: '//Dave', router: 'managed', start: false },
      ],
    },
    { logger },
  )
  const file = join(dir, 'charlie.json')
  await writeFile(file, JSON.stringify(net.worker('charlie').input), { mode: 0o600 })
  const charlie = await spawnDaemon(file, undefined, await shippedNodeOptions())
  const { token } = (await loadDaemonConfig({ flags: net.worker('charlie').input })).api
  const api = { url: String(charlie.ready.api), token }
  try {
    return await measure(net, hops, { pid: charlie.child.pid ?? 0, api })
  } finally {
    charlie.child.kill('SIGTERM')
    await net.destroy()
    await rm(dir, { recursive: true, force: true })
  }
}

async function measure(
  net: WorkerNet,
  hops: number,
  charlieProcess: { pid: number; api: Api },
): Promise<Row[]> {
  const { pid: charliePid, api: charlieApi } = charlieProcess
  const charlie = net.worker('charlie')
  const tag = `${hops} hop${hops === 1 ? '' : 's'}`
  const alice = clientOf(net, 'alice')
  const bob = clientOf(net, 'bob')
  await sleep(3000) // let alice's warmer find charlie, as it would long before pRuntime's first call
  const rssBefore = await memoryOf(charliePid)
  const firstWarm = await alice.get(charlie.workerKey, '/hello')
  const firstCold = await bob.get(charlie.workerKey, '/hello')
  const raw = await rawSam(net, hops)
  const direct = await series(() => timed(() => httpGet(charlie.service.url, '/hello')))
  const warm = await series(() => alice.get(charlie.workerKey, '/hello'))
  const bursts = []
  for (const n of CONCURRENT)
    bursts.push({
      n,
      ...(await concurrent(n, () => alice.get(charlie.workerKey, '/hello'))),
      streams: (await net.worker('alice').daemon?.status())?.peers.streamsOut,
    })
  const loadEnded = performance.now()
  const rssAtOnce = await memoryOf(charliePid)
  const reach = await startToReachable(net)
  // the same moment after the load in every run (V8 shrinks its heap when idle: how long dave's start took
  // would otherwise decide what is measured)
  await sleep(Math.max(0, RSS_SETTLE - (performance.now() - loadEnded)))
  const rss = await memoryOf(charliePid)
  const heap = await heapOf(charlieApi)
  const p50 = percentile(warm.ms, 50)
  const rawP50 = percentile(raw, 50)
  return [
    {
      what: `direct HTTP to the service (loopback)`,
      p50: r(percentile(direct.ms, 50)),
      p99: r(percentile(direct.ms, 99)),
      note: '',
    },
    {
      what: `raw SAM 64 B echo, ${tag}`,
      p50: r(rawP50),
      p99: r(percentile(raw, 99)),
      note: `${RTTS} round trips`,
    },
    {
      what: `PRouter warm request, ${tag}`,
      p50: r(p50),
      p99: r(percentile(warm.ms, 99)),
      note: `${(p50 / rawP50).toFixed(2)}x raw SAM p50; errors ${warm.errors}`,
    },
    {
      what: `first request, warm paths on, ${tag}`,
      p50: r(firstWarm.ms),
      p99: '-',
      note: `HTTP ${firstWarm.status}`,
    },
    {
      what: `first request, warm paths off, ${tag}`,
      p50: r(firstCold.ms),
      p99: '-',
      note: `HTTP ${firstCold.status}`,
    },
    ...bursts.map((burst) => ({
      what: `${burst.n} concurrent requests, ${tag}`,
      p50: r(percentile(burst.ms, 50)),
      p99: r(percentile(burst.ms, 99)),
      note: `errors ${burst.errors}; all done in ${r(burst.wallMs)} ms; alice's streams out after: ${burst.streams}`,
    })),
    {
      what: `daemon start -> reachable (own i2pd), ${tag}`,
      p50: r(reach.ms),
      p99: '-',
      note: `alice got an answer from dave; his daemon's start() took ${r(reach.startMs)} ms of it`,
    },
    {
      what: 'daemon RSS (charlie, 30 s after the load; NODE_OPTIONS as the systemd unit ships)',
      p50: `${mib(rss.rss)} MiB`,
      p99: '-',
      note:
        `${RSS_SETTLE / 1000} s after the load; ${mib(rssBefore.rss)} MiB before it, ` +
        `${mib(rssAtOnce.rss)} MiB right after it; then: ${rss.parts}; ${heap}`,
    },
  ]
}

interface Client {
  get(workerKey: string, path: string): Promise<{ ms: number; status: number }>
}

function clientOf(net: WorkerNet, name: string): Client {
  const daemon = net.worker(name).daemon
  if (daemon === undefined) throw new Error(`${name} runs no daemon`)
  const agent = new Agent({ keepAlive: true, maxSockets: Math.max(...CONCURRENT) }) // pRuntime's side never queues
  const headers = { authorization: `Bearer ${daemon.config.api.token}` }
  return {
    get: (workerKey, path) =>
      timed(() => httpGet(daemon.apiUrl, `/v1/workers/${workerKey}${path}`, headers, agent)),
  }
}

async function timed(fn: () => Promise<number>): Promise<{ ms: number; status: number }> {
  const t0 = performance.now()
  const status = await fn().catch(() => 0)
  return { ms: performance.now() - t0, status }
}

function httpGet(
  base: string,
  path: string,
  headers: Record<string, string> = {},
  agent?: Agent,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, base),
      { headers, ...(agent === undefined ? {} : { agent }) },
      (res) => {
        res.resume()
        res.on('end', () => {
          resolve(res.statusCode ?? 0)
        })
      },
    )
    req.setTimeout(60_000, () => req.destroy(new Error('timeout')))
    req.on('error', reject)
    req.end()
  })
}

async function series(
  fn: () => Promise<{ ms: number; status: number }>,
): Promise<{ ms: number[]; errors: number }> {
  const ms: number[] = []
  let errors = 0
  for (let i = 0; i < RTTS; i++) {
    const one = await fn()
    ms.push(one.ms)
    if (one.status !== 200) errors++
  }
  return { ms, errors }
}

async function concurrent(n: number, fn: () => Promise<{ ms: number; status: number }>) {
  const t0 = performance.now()
  const all = await Promise.all(Array.from({ length: n }, fn))
  return {
    ms: all.map((a) => a.ms),
    errors: all.filter((a) => a.status !== 200).length,
    wallMs: performance.now() - t0,
  }
}

/** 64 B echo round trips between a session on alice's router and one on charlie's: the SAM floor. */
async function rawSam(net: WorkerNet, hops: number): Promise<number[]> {
  const aliceSam = net.worker('alice').daemon?.router.sam as SamAddress
  const charlieSam = net.testnet.state.routers[3]?.sam as SamAddress
  const tunnels = { inbound: { length: hops, quantity: 2 }, outbound: { length: hops, quantity: 2 } }
  const [client, server] = await Promise.all([
    createSamSession({ sam: aliceSam, tunnels }, { logger }),
    createSamSession({ sam: charlieSam, tunnels }, { logger }),
  ])
  try {
    void server.accept().then(
      ({ stream }) => {
        serveMeasure(stream)
      },
      () => undefined,
    )
    const stream = await client.connect(server.destination)
    stream.write(Buffer.of(0x45)) // echo mode
    const payload = Buffer.alloc(64, 0x61)
    const samples: number[] = []
    for (let i = 0; i < RTTS; i++) {
      const t0 = performance.now()
      stream.write(payload)
      await readExactly(stream, 64)
      samples.push(performance.now() - t0)
    }
    stream.destroy()
    return samples
  } finally {
    client.destroy()
    server.destroy()
  }
}

/** A new daemon with its own i2pd, from `start()` until alice gets an answer from it by key. */
async function startToReachable(net: WorkerNet): Promise<{ ms: number; startMs: number }> {
  const dave = net.worker('dave')
  const alice = clientOf(net, 'alice')
  const t0 = performance.now()
  const daemon = await createDaemon(await loadDaemonConfig({ flags: dave.input }), { logger })
  try {
    await daemon.start()
    const startMs = performance.now() - t0
    while (performance.now() - t0 < 120_000) {
      if ((await alice.get(dave.workerKey, '/hello')).status === 200)
        return { ms: performance.now() - t0, startMs }
      await sleep(250)
    }
    return { ms: Number.NaN, startMs }
  } finally {
    await daemon.stop()
  }
}

/** charlie runs with the NODE_OPTIONS the systemd unit (and the container image) ship with. */
async function shippedNodeOptions(): Promise<Record<string, string>> {
  const unit = await readFile('deploy/systemd/prouter.service', 'utf8')
  const value = /^Environment=NODE_OPTIONS=(.+)$/m.exec(unit)?.[1]
  if (value === undefined) throw new Error('deploy/systemd/prouter.service sets no NODE_OPTIONS')
  return { NODE_OPTIONS: value }
}

/** A process's resident memory, and its parts: anonymous (heaps, buffers) and file-backed (code mapped). */
async function memoryOf(pid: number): Promise<{ rss: number; parts: string }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  const kib = (field: string): number =>
    Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN) * 1024
  return {
    rss: kib('VmRSS'),
    parts: `anonymous ${mib(kib('RssAnon'))} MiB, file-backed ${mib(kib('RssFile'))} MiB`,
  }
}

/** The V8 heap as the daemon's /metrics tells it (prom-client's default metrics). */
async function heapOf(api: Api): Promise<string> {
  const text = (await call(api, 'GET', '/metrics')).body.toString()
  const value = (name: string): number =>
    Number(new RegExp(`^prouter_${name} (\\S+)`, 'm').exec(text)?.[1] ?? NaN)
  const newSpace = Number(
    /^prouter_nodejs_heap_space_size_total_bytes\{space="new"\} (\S+)/m.exec(text)?.[1] ?? NaN,
  )
  return (
    `V8 heap ${mib(value('nodejs_heap_size_used_bytes'))} used of ${mib(value('nodejs_heap_size_total_bytes'))} ` +
    `MiB (new space ${mib(newSpace)}), external ${mib(value('nodejs_external_memory_bytes'))} MiB`
  )
}

function mib(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1)
}

function r(v: number): number {
  return Math.round(v * 10) / 10
}

function print(version: string, rows: Row[]): void {
  console.log(
    `\nPRouter daemon benchmark: i2pd ${version}, ${RTTS} sequential requests per series (ms), ` +
      `alice's outbound.minStreamsPerPeer ${MIN_STREAMS}; requests over datagrams ${DATAGRAMS ? 'on' : 'off'}\n`,
  )
  console.log('| what | p50 ms | p99 ms | note |\n|---|---|---|---|')
  for (const row of rows) console.log(`| ${row.what} | ${row.p50} | ${row.p99} | ${row.note} |`)
}

await main()
