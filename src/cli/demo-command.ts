/**
 * `prouter demo`: the main job for now. Brings up a private testnet on loopback, opens one destination on a
 * reachable router and one on a router that publishes no address, and has them talk: times for each step,
 * round trips and a one-way transfer. Everything it started is stopped before it returns.
 */
import { resolve } from 'node:path'
import type { Command } from 'commander'
import { MIB } from '../constants.js'
import type { SamSession } from '../sam/index.js'
import { createSamSession } from '../sam/index.js'
import type { Testnet } from '../testnet/index.js'
import { createTestnet } from '../testnet/index.js'
import { firstEcho, oneWay, percentile, roundTrips, serveMeasure } from '../testnet/measure.js'
import type { RouterRecord } from '../testnet/index.js'
import type { Logger } from '../logger.js'
import { contextOf, interruptSignal } from './context.js'
import { seconds, table } from './format.js'

interface DemoOptions {
  dir: string
  hops: string
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('bring up a local testnet and show two destinations talking, with times')
    .option('--dir <dir>', 'folder for the demo testnet', '.prouter/demo')
    .option('--hops <n>', 'tunnel length in each direction', '1')
    .action(demo)
}

async function demo(opts: DemoOptions, cmd: Command): Promise<void> {
  const ctx = contextOf(cmd)
  const signal = interruptSignal()
  const binary = await ctx.binary(signal)
  say(`i2pd ${binary.version} (${binary.source})`)
  const net = await createTestnet(
    { dir: resolve(opts.dir), binary, routers: 5, unreachable: 1 },
    {
      logger: ctx.logger,
      onProgress: (p) => {
        if (p.step === 'up') say(`testnet up: 5 routers in ${seconds(p.ms)}`)
      },
    },
    { signal },
  )
  const sessions: SamSession[] = []
  try {
    await talk(net, Number(opts.hops), sessions, ctx.logger, signal)
  } finally {
    await Promise.all(sessions.map((s) => s.close()))
    await net.destroy()
    say('all routers stopped')
  }
}

async function talk(net: Testnet, hops: number, sessions: SamSession[], logger: Logger, signal: AbortSignal) {
  const [first, last] = [net.state.routers[0], net.state.routers.at(-1)]
  if (first === undefined || last === undefined) return
  const open = async (rec: RouterRecord): Promise<[SamSession, number]> => {
    const t0 = performance.now()
    const tunnels = { inbound: { length: hops, quantity: 2 }, outbound: { length: hops, quantity: 2 } }
    const s = await createSamSession({ sam: rec.sam, tunnels }, { logger }, { signal })
    sessions.push(s)
    return [s, performance.now() - t0]
  }
  const [[alice, aliceMs], [bob, bobMs]] = await Promise.all([open(first), open(last)])
  say(`alice on ${first.name} (reachable):   ${alice.b32}  session ${ms(aliceMs)}`)
  say(`bob   on ${last.name} (unreachable): ${bob.b32}  session ${ms(bobMs)}`)
  void serveForever(bob, signal)
  const t0 = performance.now()
  const stream = await alice.connect(bob.destination, { signal })
  const connected = performance.now() - t0
  const echo = await firstEcho(stream)
  const rtts = await roundTrips(stream, 64, 50)
  stream.destroy()
  const bulk = await alice.connect(bob.destination, { signal })
  const bps = await oneWay(bulk, 1 * MIB)
  bulk.destroy()
  console.log(
    table([
      { step: 'stream connect', value: ms(connected) },
      { step: 'first echo', value: ms(echo) },
      {
        step: '64 B round trip p50 / p99',
        value: `${ms(percentile(rtts, 50))} / ${ms(percentile(rtts, 99))}`,
      },
      { step: '1 MiB one way', value: `${(bps / MIB).toFixed(2)} MiB/s` },
    ]),
  )
  say(`${hops}-hop tunnels each way; bob's router publishes no address and was reached through its tunnels`)
}

async function serveForever(session: SamSession, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    try {
      const { stream } = await session.accept({ signal })
      serveMeasure(stream)
    } catch {
      return // session closed
    }
  }
}

function ms(v: number): string {
  return `${v.toFixed(1)} ms`
}

function say(line: string): void {
  console.log(line)
}
