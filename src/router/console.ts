/**
 * i2pd's web console, read for what no other interface tells: the tunnels a local destination has actually
 * built (hops per tunnel, state, test latency). The console is on loopback with basic auth (see config.ts).
 * The page is HTML made for people; the parser is pure, tolerant and tested against i2pd 2.56's output:
 *
 *   <b>Inbound tunnels:</b> … <div class="listitem">&#8658; JseB … &#8658; 2624044478:me ( 1ms )<span class="tunnel established"> …
 *   <b>Outbound tunnels:</b> … <div class="listitem">2540428982:me &#8658; jIpT … &#8658; ( 1ms )<span class="tunnel established"> …
 *
 * A tunnel of n hops shows n + 1 arrows (the local end is one of the points).
 *
 * The main page is the only place i2pd tells how many bytes it forwarded for others (I2PControl has no transit
 * total): `<b>Transit:</b> 21.66 MiB (0.00 KiB/s)<br>`, the running total since the router started, printed with
 * two decimals of KiB, MiB or GiB (so to within 0.005 of the unit: 5 bytes below 1 MiB, ~5 KiB below 1 GiB).
 */
import { request } from 'node:http'
import { PRouterError } from '../errors.js'
import { DEFAULT_I2PCONTROL_TIMEOUT } from '../constants.js'

export interface BuiltTunnel {
  hops: number
  /** established, building, expiring, failed … as i2pd names it. */
  state: string
  /** The tunnel test's round trip, when shown. */
  latencyMs: number | undefined
}

export interface DestinationTunnels {
  inbound: BuiltTunnel[]
  outbound: BuiltTunnel[]
}

/** What the main page says about traffic forwarded for others. */
export interface ConsoleTraffic {
  /** Bytes forwarded for others since the router started (rounded as printed: see above). */
  transitBytes: number
  /** Half the printed unit's last digit: how far `transitBytes` may be from i2pd's own count. */
  transitResolution: number
  transitTunnels: number
}

export interface ConsoleInit {
  host: string
  port: number
  user: string
  password: string
  timeout?: number
}

/** The tunnels of the local destination `b32` (`<52>.b32.i2p` or the bare 52 characters). */
export async function destinationTunnels(init: ConsoleInit, b32: string): Promise<DestinationTunnels> {
  const id = b32.replace(/\.b32\.i2p$/, '')
  if (!/^[a-z2-7]{52}$/.test(id)) throw new PRouterError('ERR_INVALID_ARGUMENT', 'not a b32 address')
  return parseDestinationTunnels(await get(init, `/?page=local_destination&b32=${id}`))
}

/** Transit figures from the console's main page. */
export async function consoleTraffic(init: ConsoleInit): Promise<ConsoleTraffic> {
  return parseConsoleTraffic(await get(init, '/'))
}

const UNITS: Record<string, number> = { KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4 }

export function parseConsoleTraffic(html: string): ConsoleTraffic {
  const total = /<b>Transit:<\/b>\s*(\d+(?:\.\d+)?)\s*(KiB|MiB|GiB|TiB)/.exec(html)
  const tunnels = /<b>Transit Tunnels:<\/b>\s*(\d+)/.exec(html)
  if (total === null || tunnels === null) {
    throw new PRouterError('ERR_ROUTER_NOT_RUNNING', 'the i2pd console page shows no Transit figures')
  }
  const unit = UNITS[total[2] ?? ''] ?? 1024
  const decimals = (total[1] ?? '').split('.')[1]?.length ?? 0
  return {
    transitBytes: Math.round(Number(total[1]) * unit),
    transitResolution: Math.ceil((unit * 10 ** -decimals) / 2),
    transitTunnels: Number(tunnels[1]),
  }
}

export function parseDestinationTunnels(html: string): DestinationTunnels {
  const inboundAt = html.indexOf('Inbound tunnels:')
  const outboundAt = html.indexOf('Outbound tunnels:')
  if (inboundAt < 0 || outboundAt < inboundAt) return { inbound: [], outbound: [] }
  const end = html.indexOf('</div>\n<br>', outboundAt)
  return {
    inbound: tunnelsIn(html.slice(inboundAt, outboundAt)),
    outbound: tunnelsIn(html.slice(outboundAt, end < 0 ? undefined : end)),
  }
}

function tunnelsIn(section: string): BuiltTunnel[] {
  return section
    .split('<div class="listitem">')
    .slice(1)
    .map((item) => {
      const arrows = item.split('&#8658;').length - 1
      const state = /class="tunnel ([a-z]+)"/.exec(item)?.[1] ?? 'unknown'
      const latency = /\(\s*(\d+)\s*ms\s*\)/.exec(item)?.[1]
      return {
        hops: Math.max(0, arrows - 1),
        state,
        latencyMs: latency === undefined ? undefined : Number(latency),
      }
    })
}

function get(init: ConsoleInit, path: string): Promise<string> {
  const auth = Buffer.from(`${init.user}:${init.password}`).toString('base64')
  return new Promise((resolve, reject) => {
    const req = request(
      // i2pd matches header names case-sensitively: `authorization` is not seen (401)
      { host: init.host, port: init.port, path, headers: { Authorization: `Basic ${auth}` } },
      (res) => {
        const parts: Buffer[] = []
        res.on('data', (c: Buffer) => parts.push(c))
        res.on('error', reject)
        res.on('end', () => {
          if (res.statusCode === 200) resolve(Buffer.concat(parts).toString('utf8'))
          else
            reject(
              new PRouterError(
                'ERR_ROUTER_NOT_RUNNING',
                `i2pd console ${init.host}:${init.port} answered ${res.statusCode}`,
              ),
            )
        })
      },
    )
    req.setTimeout(init.timeout ?? DEFAULT_I2PCONTROL_TIMEOUT, () => {
      req.destroy(
        new PRouterError('ERR_ROUTER_NOT_RUNNING', `i2pd console ${init.host}:${init.port} timed out`),
      )
    })
    req.on('error', (cause) => {
      reject(
        new PRouterError('ERR_ROUTER_NOT_RUNNING', `i2pd console ${init.host}:${init.port} unreachable`, {
          cause,
        }),
      )
    })
    req.end()
  })
}
