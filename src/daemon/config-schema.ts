/**
 * The schema of the daemon's config: the shape of the JSON config file (every section optional), its
 * defaults and its bounds, in one strict zod object. Unknown keys are errors; numbers are integers in range,
 * never clamped. Messages complete "option <dotted path>: ...". Paths stay as written here (config.ts
 * resolves them, reads secret files and fills the defaults that depend on dataDir).
 */
import { isIPv4 } from 'node:net'
import { z } from 'zod'
import {
  BINDING_MAX_AGE,
  DEFAULT_API_PORT,
  DEFAULT_DAEMON_TUNNEL_QUANTITY,
  DEFAULT_DATA_DIR,
  DEFAULT_IDLE_TIMEOUT,
  DEFAULT_INBOUND_ANONYMOUS_IDLE_TIMEOUT,
  DEFAULT_INBOUND_MAX_STREAMS,
  DEFAULT_INBOUND_MAX_STREAMS_PER_CALLER,
  DEFAULT_MESSAGE_SEND_TIMEOUT,
  DEFAULT_MESSAGE_RATE_BURST,
  DEFAULT_MESSAGE_RATE_PER_SECOND,
  DEFAULT_MESSAGES_PATH,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_HEADER_BYTES,
  DEFAULT_OUTBOUND_CONNECT_TIMEOUT,
  DEFAULT_OUTBOUND_MAX_PENDING,
  DEFAULT_OUTBOUND_MAX_STREAMS,
  DEFAULT_OUTBOUND_MAX_STREAMS_PER_PEER,
  DEFAULT_OUTBOUND_MIN_STREAMS_PER_PEER,
  DEFAULT_OUTBOUND_REQUESTS_PER_STREAM,
  DEFAULT_OUTBOUND_PROBE_AFTER,
  DEFAULT_OUTBOUND_PROBE_TIMEOUT,
  DEFAULT_PUBLISH_REFRESH_INTERVAL,
  DEFAULT_RATE_LIMIT_BURST,
  DEFAULT_RATE_LIMIT_PER_SECOND,
  DEFAULT_REGISTRY_PORT,
  DEFAULT_REQUEST_TIMEOUT,
  DEFAULT_TUNNEL_LENGTH,
  DEFAULT_WARM_INTERVAL,
  DEFAULT_WARM_MAX,
  DEFAULT_METERING_CHECKPOINT_INTERVAL,
  DEFAULT_METERING_MAX_PEERS,
  DEFAULT_METERING_SAMPLE_INTERVAL,
  DEFAULT_REPORT_PERIOD,
  DAY,
  MAX_METERING_MAX_PEERS,
  MAX_TIMER_DELAY,
  MAX_TUNNEL_LENGTH,
  MAX_TUNNEL_QUANTITY,
  DEFAULT_MAX_STREAM_WINDOW,
  MIN_STREAM_WINDOW,
  MAX_STREAM_WINDOW,
} from '../constants.js'
import { I2PD_RELEASES } from '../router/releases.js'

/** Counts (streams, peers, requests per second) above this are surely a typo. */
const MAX_COUNT = 1_000_000

const must = (text: string) => (issue: { input?: unknown }) =>
  issue.input === undefined ? 'is required' : `must be ${text}`

function int(min: number, max: number, text = `an integer ${min}..${max}`) {
  const error = must(text)
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error })
}

function str(text = 'a non-empty string') {
  return z.string({ error: must(text) }).min(1, { error: must(text) })
}

function url(protocols: readonly string[], text: string) {
  const ok = (s: string) => URL.canParse(s) && protocols.includes(new URL(s).protocol)
  return str(text).refine(ok, { error: `must be ${text}` })
}

const flag = z.boolean({ error: must('true or false') })
const port = int(0, 65535, 'a TCP port 0..65535 (0: any free port)')
const boundPort = int(1, 65535, 'a TCP port 1..65535')
const count = int(1, MAX_COUNT, `an integer 1..${MAX_COUNT}`)
const bytes = int(1, Number.MAX_SAFE_INTEGER, 'a positive integer (bytes)')
const duration = int(1, MAX_TIMER_DELAY, `an integer 1..${MAX_TIMER_DELAY} (milliseconds)`)
const host = str('a host name or address').regex(/^[^\s/#=[\]]+$/, {
  error: 'must be a host name or address',
})
const hexKey = (digits: number, text: string) =>
  str(text).regex(new RegExp(`^0x[0-9a-fA-F]{${digits}}$`), { error: `must be ${text}` })

const hopsSchema = z.strictObject({
  length: int(0, MAX_TUNNEL_LENGTH).default(DEFAULT_TUNNEL_LENGTH),
  quantity: int(1, MAX_TUNNEL_QUANTITY).default(DEFAULT_DAEMON_TUNNEL_QUANTITY),
})

const managedRouterSchema = z.strictObject({
  mode: z.literal('managed'),
  dataDir: str().optional(),
  i2pd: str().optional(),
  i2pdRelease: z.enum(I2PD_RELEASES).optional(),
  host: host.optional(), // unset: i2pd binds every address and learns its public one (NAT)
  port: port.default(0),
  netId: int(1, 255).default(2),
  published: flag.default(true),
  floodfill: flag.default(false),
  bandwidth: str()
    .regex(/^([LOPX]|[1-9]\d{0,6})$/, { error: 'must be L, O, P, X or KB/s' })
    .default('O'),
  reservedRange: flag.default(true),
  nat: flag.default(true),
  ssu2: flag.default(true),
  ipv6: flag.default(false),
  transit: flag.default(true),
  samPort: port.default(0),
  i2pcontrolPort: port.default(0),
  consolePort: port.default(0),
  reseed: z
    .strictObject({
      zipFile: str().optional(),
      su3File: str().optional(),
      urls: z.array(url(['https:', 'http:'], 'an http(s) URL')).default([]),
      verify: flag.default(true),
      threshold: int(0, 1000).default(25),
      fromRegistry: flag.default(false),
    })
    .prefault({}),
  publishRouterInfo: flag.default(true),
})

const attachedRouterSchema = z.strictObject({
  mode: z.literal('attach'),
  sam: z.strictObject({ host, port: boundPort }),
  i2pcontrol: z
    .strictObject({ host: host.default('127.0.0.1'), port: boundPort, password: str(), certFile: str() })
    .optional(),
  routerInfoFile: str().optional(),
})

const registrySchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('local'), dir: str().optional() }),
  z.strictObject({
    kind: z.literal('http'),
    url: url(['http:', 'https:'], 'an http(s) URL').default(`http://127.0.0.1:${DEFAULT_REGISTRY_PORT}`),
    token: str().optional(),
    tokenFile: str().optional(),
  }),
  z.strictObject({
    kind: z.literal('evm'),
    rpcUrl: url(['http:', 'https:', 'ws:', 'wss:'], 'an http(s) or ws(s) URL'),
    contract: hexKey(40, 'a 0x address of 40 hex digits'),
    fromBlock: z
      .union([int(0, Number.MAX_SAFE_INTEGER), z.string().regex(/^\d+$/)], { error: must('a block number') })
      .transform((n) => BigInt(n))
      .default(0n),
    relayerKeyFile: str().optional(),
    chainId: int(1, Number.MAX_SAFE_INTEGER, 'a chain id (eth_chainId): a positive integer').optional(),
  }),
])

const workerKey = hexKey(64, 'a worker key: 0x and 64 hex digits').transform((k) => k.toLowerCase())
const allowedPath = str().regex(/^\/[^*\s]*\*?$/, {
  error: "must start with '/', hold no space, and hold '*' only at its end (a prefix)",
})

const configSchema = z.strictObject({
  hops: int(0, MAX_TUNNEL_LENGTH).optional(),
  dataDir: str().default(DEFAULT_DATA_DIR),
  keysDir: str().optional(),
  router: z.discriminatedUnion('mode', [managedRouterSchema, attachedRouterSchema]),
  tunnels: z
    .strictObject({
      inbound: hopsSchema.prefault({}),
      outbound: hopsSchema.prefault({}),
      maxStreamWindow: int(MIN_STREAM_WINDOW, MAX_STREAM_WINDOW).default(DEFAULT_MAX_STREAM_WINDOW),
    })
    .prefault({}),
  registry: registrySchema,
  api: z
    .strictObject({
      host: host
        .refine(isLoopback, { error: 'must be a loopback address (127.0.0.0/8, ::1 or localhost)' })
        .default('127.0.0.1'),
      port: port.default(DEFAULT_API_PORT),
      tokenFile: str().optional(),
    })
    .prefault({}),
  service: z.strictObject({ url: url(['http:'], 'an http:// URL').optional() }).prefault({}),
  inbound: z
    .strictObject({
      allowAnonymous: flag.default(true),
      allowPaths: z.array(allowedPath, { error: must('a list of paths') }).optional(),
      maxStreams: count.default(DEFAULT_INBOUND_MAX_STREAMS),
      maxStreamsPerCaller: count.default(DEFAULT_INBOUND_MAX_STREAMS_PER_CALLER),
      anonymousIdleTimeout: duration.default(DEFAULT_INBOUND_ANONYMOUS_IDLE_TIMEOUT),
      rateLimit: z
        .strictObject({
          perSecond: count.default(DEFAULT_RATE_LIMIT_PER_SECOND),
          burst: count.default(DEFAULT_RATE_LIMIT_BURST),
        })
        .prefault({}),
    })
    .prefault({}),
  outbound: z
    .strictObject({
      maxStreams: count.default(DEFAULT_OUTBOUND_MAX_STREAMS),
      maxStreamsPerPeer: count.default(DEFAULT_OUTBOUND_MAX_STREAMS_PER_PEER),
      minStreamsPerPeer: count.default(DEFAULT_OUTBOUND_MIN_STREAMS_PER_PEER),
      requestsPerStream: count.default(DEFAULT_OUTBOUND_REQUESTS_PER_STREAM),
      maxPending: count.default(DEFAULT_OUTBOUND_MAX_PENDING),
      connectTimeout: duration.default(DEFAULT_OUTBOUND_CONNECT_TIMEOUT),
      probeAfter: duration.default(DEFAULT_OUTBOUND_PROBE_AFTER),
      probeTimeout: duration.default(DEFAULT_OUTBOUND_PROBE_TIMEOUT),
      /** Small requests go over the datagram session when it runs (messages.enabled): docs/messages.md. */
      datagramRequests: flag.default(true),
    })
    .prefault({}),
  limits: z
    .strictObject({
      maxHeaderBytes: bytes.default(DEFAULT_MAX_HEADER_BYTES),
      maxBodyBytes: bytes.default(DEFAULT_MAX_BODY_BYTES),
      idleTimeout: duration.default(DEFAULT_IDLE_TIMEOUT),
      requestTimeout: duration.default(DEFAULT_REQUEST_TIMEOUT),
    })
    .prefault({}),
  warm: z
    .strictObject({
      peers: z
        .union([z.enum(['all', 'none']), z.array(workerKey)], {
          error: must('"all", "none" or a list of worker keys'),
        })
        .default('all'),
      interval: duration.default(DEFAULT_WARM_INTERVAL),
      max: count.default(DEFAULT_WARM_MAX),
    })
    .prefault({}),
  publish: z
    .strictObject({
      enabled: flag.default(true),
      refreshInterval: int(
        1,
        BINDING_MAX_AGE - 1,
        `an integer 1..${BINDING_MAX_AGE - 1} (ms, under 4 h)`,
      ).default(DEFAULT_PUBLISH_REFRESH_INTERVAL),
    })
    .prefault({}),
  messages: z
    .strictObject({
      enabled: flag.default(false),
      /** Where received messages go: POSTed to the service URL + this path. */
      path: str()
        .regex(/^\/[^\s?#]*$/, { error: "must start with '/' and hold no space, '?' or '#'" })
        .default(DEFAULT_MESSAGES_PATH),
      allowAnonymous: flag.default(false),
      sendTimeout: duration.default(DEFAULT_MESSAGE_SEND_TIMEOUT),
      /** The SAM bridge's UDP port; default the SAM TCP port - 1 (i2pd's own default). */
      samUdpPort: port.optional(),
      rateLimit: z
        .strictObject({
          perSecond: count.default(DEFAULT_MESSAGE_RATE_PER_SECOND),
          burst: count.default(DEFAULT_MESSAGE_RATE_BURST),
        })
        .prefault({}),
    })
    .prefault({}),
  metering: z
    .strictObject({
      period: int(1000, DAY, `an integer 1000..${DAY} (ms, at most a day)`).default(DEFAULT_REPORT_PERIOD),
      sampleInterval: duration.default(DEFAULT_METERING_SAMPLE_INTERVAL),
      checkpointInterval: duration.default(DEFAULT_METERING_CHECKPOINT_INTERVAL),
      maxPeers: int(1, MAX_METERING_MAX_PEERS).default(DEFAULT_METERING_MAX_PEERS),
      publishReports: flag.default(true),
    })
    .prefault({}),
})

type DeepPartial<T> = T extends readonly unknown[]
  ? T
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T

/**
 * One layer of config, in the shape of the JSON config file: every option optional. `hops: n` is a
 * shorthand for `tunnels.inbound.length` and `tunnels.outbound.length` (an explicit length in the same
 * layer wins; a later layer wins over both).
 */
export type DaemonConfigInput = DeepPartial<z.input<typeof configSchema>>

export type ParsedConfig = z.output<typeof configSchema>

/** Validate the merged layers (defaults filled in); the issues say where and why. */
export function parseConfig(merged: unknown): z.ZodSafeParseResult<ParsedConfig> {
  return configSchema.safeParse(merged, { error: describeIssue })
}

function describeIssue(issue: z.core.$ZodRawIssue): string {
  if (issue.code === 'invalid_type' && issue.input === undefined) return 'is required'
  switch (issue.code) {
    case 'invalid_type':
      return `must be ${/^[aeiou]/.test(issue.expected) ? 'an' : 'a'} ${issue.expected}`
    case 'invalid_value':
      return `must be ${oneOf(issue.values)}`
    case 'invalid_union': {
      const options = (issue as { options?: unknown[] }).options
      return options ? `must be ${oneOf(options)}` : 'is not valid'
    }
    default:
      return 'is not valid'
  }
}

/** `"a", "b" or "c"` */
function oneOf(values: readonly unknown[]): string {
  const quoted = values.map((v) => JSON.stringify(v))
  return quoted.length < 2 ? quoted.join('') : `${quoted.slice(0, -1).join(', ')} or ${quoted.at(-1) ?? ''}`
}

export function isLoopback(address: string): boolean {
  return address === 'localhost' || address === '::1' || (isIPv4(address) && address.startsWith('127.'))
}
