/**
 * SAM benchmark: on a fresh private testnet, for 0, 1 and 3 hops each way, through PRouter's SAM client —
 * session-create time, connect-to-first-byte, 64 B round trips (p50/p99 over 200), one-way 16 MiB throughput,
 * round trips under the send timer (rested and rotated streams, 64 B datagrams echoed) — and direct TCP on
 * loopback as the floor, in the same run. Prints a table, writes JSON to bench/results/.
 *
 *   npm run bench:sam                    (isolated in a network namespace; i2pd 2.56 and 2.59 in turn)
 *   BENCH_I2PD=sid BENCH_HOPS=0,1 BENCH_BULK_MIB=4 BENCH_RTTS=200 BENCH_ROTATE=2,4 npm run bench:sam
 *   PROUTER_I2PD=/path/to/i2pd npm run bench:sam   (one binary of your own)
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, connect } from 'node:net'
import type { AddressInfo, Socket } from 'node:net'
import { once } from 'node:events'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { saveResults } from './results-file.js'
import { MIB } from '../src/constants.js'
import { createLogger } from '../src/logger.js'
import type { I2pdBinary } from '../src/router/binary.js'
import { benchBinaries } from './binaries.js'
import { createSamDatagramSession, createSamSession } from '../src/sam/index.js'
import type { SamDatagramSession, SamSession, SamSessionInit } from '../src/sam/index.js'
import { createTestnet } from '../src/testnet/index.js'
import type { RouterRecord, Testnet } from '../src/testnet/index.js'
import {
  firstEcho,
  oneWay,
  percentile,
  rotatedRoundTrips,
  roundTrips,
  serveMeasure,
} from '../src/testnet/measure.js'

const HOPS = (process.env.BENCH_HOPS ?? '0,1,3').split(',').map(Number)
const RTTS = Number(process.env.BENCH_RTTS ?? 200)
const BULK = Number(process.env.BENCH_BULK_MIB ?? 16) * MIB
/** Round trips taking turns on this many warm streams, back to back ("1 / 30 ms": one stream, 30 ms apart). */
const ROTATE = (process.env.BENCH_ROTATE ?? '2,4,8').split(',').map(Number)
const REST_MS = 30
const logger = createLogger({ level: process.env.PROUTER_LOG_LEVEL ?? 'warn' })

interface Rotation {
  label: string
  p50Ms: number
  p99Ms: number
}

interface Row {
  path: string
  rotations?: Rotation[]
  sessionCreateMs?: number
  connectToFirstByteMs: number
  rttP50Ms: number
  rttP99Ms: number
  oneWayMiBps: number
}

async function main(): Promise<void> {
  const runs = []
  for (const binary of await benchBinaries(logger)) runs.push(await benchBinary(binary))
  for (const run of runs) {
    print(run.rows, run.i2pd)
    if (run.crashes.length > 0)
      console.log(`\nrouters that exited unexpectedly (restarted): ${run.crashes.join(', ')}`)
  }
  await saveResults('sam', { node: process.version, rtts: RTTS, bulkBytes: BULK, runs })
}

/** One testnet of `binary`'s routers: direct TCP, then each hop count over SAM. */
async function benchBinary(binary: I2pdBinary) {
  const dir = await mkdtemp(join(tmpdir(), 'prouter-bench-'))
  const t0 = performance.now()
  const net = await createTestnet({ dir, binary, routers: 5 }, { logger })
  const upMs = performance.now() - t0
  process.stderr.write(`i2pd ${binary.version}: testnet up in ${(upMs / 1000).toFixed(1)} s\n`)
  const crashes: string[] = []
  for (const r of net.routers) {
    r.on('exit', (e) => {
      if (!e.expected) crashes.push(`${r.name} pid ${e.pid} (${e.signal ?? `code ${String(e.code)}`})`)
    })
  }
  const rows: Row[] = [await directTcp()]
  try {
    for (const hops of HOPS) rows.push(await withOneRetry(net, () => overSam(net, hops)))
  } finally {
    await net.destroy()
    await rm(dir, { recursive: true, force: true })
  }
  return { i2pd: binary.version, testnetUpMs: upMs, crashes, rows }
}

async function directTcp(): Promise<Row> {
  const server = createServer(serveMeasure)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  const dial = async (): Promise<Socket> => {
    const s = connect(port, '127.0.0.1')
    await once(s, 'connect')
    s.setNoDelay(true)
    return s
  }
  try {
    return await measure('direct TCP (loopback)', dial)
  } finally {
    server.close()
  }
}

async function overSam(net: Testnet, hops: number): Promise<Row> {
  const [a, b] = [net.state.routers[0], net.state.routers[2]] as [RouterRecord, RouterRecord]
  const tunnels = { inbound: { length: hops, quantity: 2 }, outbound: { length: hops, quantity: 2 } }
  const t0 = performance.now()
  const [client, server] = await Promise.all([
    createSamSession({ sam: a.sam, tunnels }, { logger }),
    createSamSession({ sam: b.sam, tunnels }, { logger }),
  ])
  const sessionCreateMs = performance.now() - t0
  const controller = new AbortController()
  void acceptLoop(server, controller.signal)
  try {
    const dial = (): Promise<Socket> => client.connect(server.destination)
    const row = await measure(`SAM, ${hops} hop${hops === 1 ? '' : 's'}`, dial)
    const turns = await rotations(dial)
    return { ...row, sessionCreateMs, rotations: [...turns, await datagramEcho(a, b, tunnels)] }
  } finally {
    controller.abort()
    await Promise.all([client.close(), server.close()])
  }
}

/**
 * 64 B repliable datagrams back to back between sessions on the same two routers, each echoed by the other
 * side: no streaming state, so no send timer (the floor of a request carried by datagrams). A datagram lost
 * either way is sent again after a second and counted in the sample it delayed.
 */
async function datagramEcho(
  a: RouterRecord,
  b: RouterRecord,
  tunnels: SamSessionInit['tunnels'],
): Promise<Rotation> {
  let heard: (() => void) | undefined
  const self: { echo?: SamDatagramSession } = {} // the echo answers through its own session
  const [client, echo] = await Promise.all([
    createSamDatagramSession({ sam: a.sam, tunnels }, { logger, onDatagram: () => heard?.() }),
    createSamDatagramSession(
      { sam: b.sam, tunnels },
      {
        logger,
        onDatagram: (d) => {
          void self.echo?.send(d.destination, d.payload)
        },
      },
    ),
  ])
  self.echo = echo
  try {
    await client.lookup(echo.b32)
    await echo.lookup(client.b32)
    const payload = Buffer.alloc(64, 0x61)
    const once = async (): Promise<number> => {
      const t0 = performance.now()
      for (;;) {
        const answered = new Promise<boolean>((resolve) => {
          heard = () => {
            resolve(true)
          }
          setTimeout(() => {
            resolve(false)
          }, 1000)
        })
        await client.send(echo.destination, payload)
        if (await answered) return performance.now() - t0
      }
    }
    for (let i = 0; i < 5; i++) await once() // the first datagrams open the ratchet sessions
    const rtts: number[] = []
    for (let i = 0; i < RTTS; i++) rtts.push(await once())
    return { label: 'datagram echo, back to back', p50Ms: percentile(rtts, 50), p99Ms: percentile(rtts, 99) }
  } finally {
    await Promise.all([client.close(), echo.close()])
  }
}

/** A router that crashed is restarted by its supervisor: wait until all are ready, then try once more. */
async function withOneRetry(net: Testnet, run: () => Promise<Row>): Promise<Row> {
  try {
    return await run()
  } catch (err) {
    process.stderr.write(`  failed (${(err as Error).message}); waiting for the routers, then once more\n`)
    await Promise.all(net.routers.filter((r) => r.state !== 'ready').map((r) => once(r, 'ready')))
    return run()
  }
}

async function measure(path: string, dial: () => Promise<Socket>): Promise<Row> {
  const t0 = performance.now()
  const stream = await dial()
  await firstEcho(stream)
  const connectToFirstByteMs = performance.now() - t0
  const rtts = await roundTrips(stream, 64, RTTS)
  stream.destroy()
  const bulk = await dial()
  const bps = await oneWay(bulk, BULK)
  bulk.destroy()
  process.stderr.write(`  measured ${path}\n`)
  return {
    path,
    connectToFirstByteMs,
    rttP50Ms: percentile(rtts, 50),
    rttP99Ms: percentile(rtts, 99),
    oneWayMiBps: bps / MIB,
  }
}

/** 64 B round trips on one stream rested between them, then taking turns on N warm streams. */
async function rotations(dial: () => Promise<Socket>): Promise<Rotation[]> {
  const streams = await Promise.all(Array.from({ length: Math.max(1, ...ROTATE) }, dial))
  try {
    await Promise.all(streams.map((s) => firstEcho(s)))
    const sample = async (label: string, n: number, gapMs: number): Promise<Rotation> => {
      const rtts = await rotatedRoundTrips(streams.slice(0, n), 64, RTTS, gapMs)
      return { label, p50Ms: percentile(rtts, 50), p99Ms: percentile(rtts, 99) }
    }
    const out = [await sample(`1 stream, ${REST_MS} ms apart`, 1, REST_MS)]
    for (const n of ROTATE) out.push(await sample(`${n} streams in turn`, n, 0))
    return out
  } finally {
    for (const s of streams) s.destroy()
  }
}

async function acceptLoop(session: SamSession, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    try {
      serveMeasure((await session.accept({ signal })).stream)
    } catch {
      return
    }
  }
}

function print(rows: readonly Row[], version: string): void {
  const floor = rows[0]
  const f = (v: number | undefined, d = 1): string => (v === undefined ? '-' : v.toFixed(d))
  console.log(`\nSAM benchmark, i2pd ${version}, ${RTTS} round trips of 64 B, ${BULK / MIB} MiB one way\n`)
  console.log(
    '| path | session create ms | connect→first byte ms | RTT p50 ms | RTT p99 ms | one-way MiB/s | p50 vs TCP |',
  )
  console.log('|---|---|---|---|---|---|---|')
  for (const r of rows) {
    const ratio = floor === undefined ? '-' : `${(r.rttP50Ms / floor.rttP50Ms).toFixed(0)}x`
    console.log(
      `| ${r.path} | ${f(r.sessionCreateMs, 0)} | ${f(r.connectToFirstByteMs)} | ${f(r.rttP50Ms, 2)} | ${f(r.rttP99Ms, 2)} | ${f(r.oneWayMiBps, 2)} | ${ratio} |`,
    )
  }
  printRotations(rows)
}

/** 64 B round trips under the send timer: each row's p50 also as a ratio to the back-to-back one stream. */
function printRotations(rows: readonly Row[]): void {
  console.log('\n| path | 64 B round trips | p50 ms | p99 ms | p50 vs back to back |')
  console.log('|---|---|---|---|---|')
  for (const r of rows) {
    for (const t of r.rotations ?? []) {
      const ratio = (t.p50Ms / r.rttP50Ms).toFixed(2)
      console.log(`| ${r.path} | ${t.label} | ${t.p50Ms.toFixed(2)} | ${t.p99Ms.toFixed(2)} | ${ratio}x |`)
    }
  }
}

await main()
