/**
 * Bulk transfer benchmark (issue 14 part 3): one large body each way, in one run on one local PRouter network
 * (4 testnet routers; alice and bob each a daemon with its own i2pd), every transfer checked by sha256:
 *
 *   1. direct TCP on loopback, and direct HTTP to the bench service (the floor)
 *   2. raw SAM, 1 stream, upload (client -> server) and download, between sessions on alice's and bob's routers
 *   3. raw SAM, N streams at once (default N = 2, 4, 8), each carrying size/N: aggregate MiB/s
 *   4. through the daemons: alice's API -> bob's service, a POST of the body and a GET of it
 *   5. through the daemons, N requests at once: N POSTs of parts, N GETs with Range
 *
 * and the daemon's ratios to raw SAM with 1 stream and with the same N. Prints a table, writes JSON to
 * bench/results/. Single-stream rows move `--single-mib` (default 16) so a run stays near 10 minutes.
 *
 *   npm run bench:bulk                                   (isolated in a network namespace)
 *   npm run bench:bulk -- --hops 1 --mib 16 --single-mib 8 --streams 2,4,8,16
 *   BENCH_HOPS=1 BENCH_BULK_MIB=16 BENCH_SINGLE_MIB=8 BENCH_STREAMS=2,4 npm run bench:bulk
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { Agent } from 'node:http'
import { createServer, connect, type AddressInfo } from 'node:net'
import { once } from 'node:events'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { saveResults } from './results-file.js'
import { DEFAULT_MAX_BODY_BYTES, MAX_TUNNEL_LENGTH, MIB, MINUTE, SECOND } from '../src/constants.js'
import { createLogger } from '../src/logger.js'
import type { I2pdBinary } from '../src/router/binary.js'
import { benchBinaries } from './binaries.js'
import { sleep } from '../src/signals.js'
import { createWorkerNet, type WorkerNet } from '../src/testnet/workers.js'
import { getBlob, getStatus, postBody, type HttpTarget } from './bulk/http-client.js'
import { timeParts, withRetry, type Figure } from './bulk/measure.js'
import { createSamPair, type SamPair } from './bulk/sam-pair.js'
import { streamWindowOptions } from '../src/sam/index.js'
import { startBulkService } from './bulk/service.js'
import { bulkConn, download, serveBulk, upload } from './bulk/wire.js'
import { printTable, type Row } from './bulk/table.js'

const logger = createLogger({ level: process.env.PROUTER_LOG_LEVEL ?? 'warn' })
const EXCHANGE_TIMEOUT = 10 * MINUTE

interface Options {
  hops: number
  size: number
  singleSize: number
  streams: number[]
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      hops: { type: 'string' },
      mib: { type: 'string' },
      'single-mib': { type: 'string' },
      streams: { type: 'string' },
    },
  })
  const hops = Number(values.hops ?? process.env.BENCH_HOPS ?? 3)
  const mib = Number(values.mib ?? process.env.BENCH_BULK_MIB ?? 64)
  const singleMib = Number(values['single-mib'] ?? process.env.BENCH_SINGLE_MIB ?? Math.min(mib, 16))
  const streams = (values.streams ?? process.env.BENCH_STREAMS ?? '2,4,8').split(',').map(Number)
  if (!Number.isInteger(hops) || hops < 0 || hops > MAX_TUNNEL_LENGTH) {
    throw new Error(`--hops / BENCH_HOPS: an integer 0..${MAX_TUNNEL_LENGTH}`)
  }
  if (!(mib > 0)) throw new Error('--mib / BENCH_BULK_MIB: a positive number of MiB')
  if (!(singleMib > 0) || singleMib > mib) throw new Error('--single-mib / BENCH_SINGLE_MIB: 0 < it <= --mib')
  if (streams.some((n) => !Number.isInteger(n) || n < 2 || n > 32)) {
    throw new Error('--streams / BENCH_STREAMS: integers 2..32, comma-separated')
  }
  return { hops, size: Math.round(mib * MIB), singleSize: Math.round(singleMib * MIB), streams }
}

async function main(): Promise<void> {
  const opts = options()
  const payload = randomBytes(opts.size)
  const runs = []
  for (const binary of await benchBinaries(logger)) runs.push(await benchBinary(binary, opts, payload))
  for (const run of runs) printTable(run.header, run.rows)
  await saveResults('bulk', { runs })
}

/** One network of `binary`'s routers: the floors, then raw SAM and the daemons for 1 and each N streams. */
async function benchBinary(binary: I2pdBinary, opts: Options, payload: Buffer) {
  const service = await startBulkService(payload)
  const dir = await mkdtemp(join(tmpdir(), 'prouter-bench-bulk-'))
  const started = new Date()
  const load = loadavg()[0] ?? NaN
  const t0 = performance.now()
  const net = await bulkNet(dir, binary, opts.hops, opts.size, service.url)
  const upMs = performance.now() - t0
  process.stderr.write(`i2pd ${binary.version}: network up in ${(upMs / 1000).toFixed(1)} s\n`)
  const rows: Row[] = []
  let pair: SamPair | undefined
  try {
    rows.push(await directTcp(payload), await directHttp(service.url, payload))
    pair = await samPair(net, payload)
    const daemon = await daemonTarget(net)
    for (const n of [1, ...opts.streams]) {
      const size = n === 1 ? opts.singleSize : opts.size
      rows.push(await overSam(pair, payload, n, size, opts.hops))
      rows.push(await throughDaemons(daemon, payload, n, size, opts.hops))
    }
  } finally {
    await pair?.close().catch(() => undefined)
    await net.destroy()
    await service.close()
    await rm(dir, { recursive: true, force: true })
  }
  const header = {
    date: started.toISOString(),
    i2pd: binary.version,
    node: process.version,
    cpus: availableParallelism(),
    loadAverage: load,
    hops: opts.hops,
    sizeBytes: opts.size,
    singleStreamBytes: opts.singleSize,
    networkUpMs: Math.round(upMs),
  }
  return { header, rows }
}

/** alice and bob with their own routers (as in bench/daemon.ts), limits raised for one large body. */
function bulkNet(
  dir: string,
  binary: I2pdBinary,
  hops: number,
  size: number,
  serviceUrl: string,
): Promise<WorkerNet> {
  const limits = {
    maxBodyBytes: Math.max(DEFAULT_MAX_BODY_BYTES, 2 * size),
    requestTimeout: 30 * MINUTE,
    idleTimeout: 2 * MINUTE,
  }
  return createWorkerNet(
    {
      dir,
      binary,
      hops,
      workers: [
        { name: 'alice', suri: '//Alice', router: 'managed', config: { limits, warm: { interval: MINUTE } } },
        {
          name: 'bob',
          suri: '//Bob',
          router: 'managed',
          config: { limits, warm: { peers: 'none' }, service: { url: serviceUrl } },
        },
      ],
    },
    { logger },
  )
}

async function directTcp(payload: Buffer): Promise<Row> {
  const server = createServer((socket) => {
    serveBulk(socket, payload)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  const socket = connect(port, '127.0.0.1')
  await once(socket, 'connect')
  const conn = bulkConn(socket)
  try {
    const size = payload.length
    const up = await timeParts(size, 1, () => upload(conn, payload))
    const down = await timeParts(size, 1, () => download(conn, payload, 0, size))
    return { path: 'direct TCP (loopback)', kind: 'floor', streams: 1, bytes: size, up, down }
  } finally {
    socket.destroy()
    server.close()
  }
}

async function directHttp(serviceUrl: string, payload: Buffer): Promise<Row> {
  const target: HttpTarget = {
    base: serviceUrl,
    headers: {},
    agent: new Agent({ keepAlive: true }),
    timeout: EXCHANGE_TIMEOUT,
  }
  try {
    const size = payload.length
    const up = await timeParts(size, 1, () => postBody(target, payload))
    const down = await timeParts(size, 1, () => getBlob(target, payload))
    return { path: 'direct HTTP to the service (loopback)', kind: 'floor', streams: 1, bytes: size, up, down }
  } finally {
    target.agent.destroy()
  }
}

/** Raw SAM between the daemons' own routers, with the daemons' tunnel settings and streaming window. */
async function samPair(net: WorkerNet, payload: Buffer): Promise<SamPair> {
  const alice = net.worker('alice').daemon
  const bob = net.worker('bob').daemon
  if (alice === undefined || bob === undefined) throw new Error('alice and bob run daemons')
  const { inbound, outbound, maxStreamWindow } = alice.config.tunnels
  const tunnels = { inbound: { ...inbound, lengthVariance: 0 }, outbound: { ...outbound, lengthVariance: 0 } }
  const options = streamWindowOptions(maxStreamWindow)
  return createSamPair(
    { client: alice.router.sam, server: bob.router.sam, tunnels, options, payload },
    { logger },
  )
}

async function overSam(pair: SamPair, payload: Buffer, n: number, size: number, hops: number): Promise<Row> {
  const figure = async (dir: 'up' | 'down'): Promise<Figure> => {
    const conns = await pair.open(n)
    try {
      return await timeParts(size, n, (i, offset, length) => {
        const conn = conns[i]
        if (conn === undefined) throw new Error(`no stream ${i}`)
        return dir === 'up'
          ? upload(conn, payload.subarray(offset, offset + length))
          : download(conn, payload, offset, length)
      })
    } finally {
      await pair.release(conns)
    }
  }
  const recover = () => pair.renew()
  const up = await withRetry(`raw SAM x${n} upload`, () => figure('up'), recover)
  const down = await withRetry(`raw SAM x${n} download`, () => figure('down'), recover)
  progress(`raw SAM, ${n} stream(s)`, up, down)
  const path = `raw SAM, ${n} stream${n === 1 ? '' : 's'}, ${tag(hops)}`
  return { path, kind: 'sam', streams: n, bytes: size, up, down }
}

/** A row's figures as soon as they are known (the table comes at the end of the run). */
function progress(what: string, up: Figure, down: Figure): void {
  const f = (x: Figure): string => (x.error === undefined ? `${x.mibps.toFixed(2)} MiB/s` : 'failed')
  process.stderr.write(`  measured ${what}: up ${f(up)}, down ${f(down)}\n`)
}

interface DaemonTarget extends HttpTarget {
  warm(n: number): Promise<void>
}

/** alice's API, addressing bob by key; waits until bob answers through it. */
async function daemonTarget(net: WorkerNet): Promise<DaemonTarget> {
  const alice = net.worker('alice').daemon
  if (alice === undefined) throw new Error('alice runs a daemon')
  const target: HttpTarget = {
    base: `${alice.apiUrl}/v1/workers/${net.worker('bob').workerKey}`,
    headers: { authorization: `Bearer ${alice.config.api.token}` },
    agent: new Agent({ keepAlive: true, maxSockets: 64 }),
    timeout: EXCHANGE_TIMEOUT,
  }
  const deadline = performance.now() + 2 * MINUTE
  while ((await getStatus(target, '/hold?ms=0').catch(() => 0)) !== 200) {
    if (performance.now() > deadline) throw new Error('bob not reachable through alice within 2 min')
    await sleep(SECOND)
  }
  return {
    ...target,
    // n requests held open at once: alice's pool then has n streams to bob before anything is timed
    warm: async (n) => {
      const statuses = await Promise.all(Array.from({ length: n }, () => getStatus(target, '/hold?ms=1500')))
      if (statuses.some((s) => s !== 200)) throw new Error(`warm-up answered ${statuses.join(',')}`)
    },
  }
}

async function throughDaemons(
  target: DaemonTarget,
  payload: Buffer,
  n: number,
  size: number,
  hops: number,
): Promise<Row> {
  const whole = n === 1 && size === payload.length
  const run = async (dir: 'up' | 'down'): Promise<Figure> => {
    await target.warm(n)
    return timeParts(size, n, (_i, offset, length) =>
      dir === 'up'
        ? postBody(target, payload.subarray(offset, offset + length))
        : getBlob(target, payload, whole ? undefined : [offset, length]),
    )
  }
  const recover = () => sleep(5 * SECOND)
  const up = await withRetry(`daemon x${n} POST`, () => run('up'), recover)
  const down = await withRetry(`daemon x${n} GET`, () => run('down'), recover)
  progress(`the daemons, ${n} request(s)`, up, down)
  const how = n === 1 ? (whole ? 'POST / GET' : 'POST / GET Range') : 'POSTs of parts / GETs with Range'
  const path = `PRouter alice -> bob, ${n} request${n === 1 ? '' : 's'} (${how}), ${tag(hops)}`
  return { path, kind: 'daemon', streams: n, bytes: size, up, down }
}

function tag(hops: number): string {
  return `${hops} hop${hops === 1 ? '' : 's'}`
}

await main()
