/**
 * `PROUTER_*` environment variables -> one layer of the daemon's config (see docs/config.md for the table).
 * Each variable sets one option; a value that does not parse is refused here, naming the variable, and the
 * layer remembers which variable set which option so that later validation errors name it too.
 * An empty variable counts as unset. PROUTER_CONFIG is the CLI's (it picks the file), not read here.
 */
import { invalidOption } from '../errors.js'
import { I2PD_RELEASES } from '../router/releases.js'

type Parse = (value: string, name: string) => unknown

export interface EnvLayer {
  /** The options the variables set, in the shape of the JSON config file. */
  input: Record<string, unknown>
  /** Dotted option path -> the variable that set it. */
  origins: Map<string, string>
}

const asIs: Parse = (value) => value

const VARIABLES: ReadonlyArray<readonly [name: string, path: string, parse: Parse]> = [
  ['PROUTER_DATA_DIR', 'dataDir', asIs],
  ['PROUTER_KEYS_DIR', 'keysDir', asIs],
  ['PROUTER_ROUTER_MODE', 'router.mode', oneOf('managed', 'attach')],
  ['PROUTER_I2PD', 'router.i2pd', asIs],
  ['PROUTER_I2PD_RELEASE', 'router.i2pdRelease', oneOf(...I2PD_RELEASES)],
  ['PROUTER_NETID', 'router.netId', wholeNumber],
  ['PROUTER_RESEED_FROM_REGISTRY', 'router.reseed.fromRegistry', boolean],
  ['PROUTER_SAM', 'router.sam', hostPort],
  ['PROUTER_HOPS', 'hops', wholeNumber],
  ['PROUTER_API_HOST', 'api.host', asIs],
  ['PROUTER_API_PORT', 'api.port', wholeNumber],
  ['PROUTER_API_TOKEN_FILE', 'api.tokenFile', asIs],
  ['PROUTER_SERVICE_URL', 'service.url', asIs],
  ['PROUTER_REGISTRY', 'registry.kind', oneOf('local', 'http', 'evm')],
  ['PROUTER_REGISTRY_DIR', 'registry.dir', asIs],
  ['PROUTER_REGISTRY_URL', 'registry.url', asIs],
  ['PROUTER_REGISTRY_TOKEN_FILE', 'registry.tokenFile', asIs],
  ['PROUTER_EVM_RPC', 'registry.rpcUrl', asIs],
  ['PROUTER_EVM_CONTRACT', 'registry.contract', asIs],
  ['PROUTER_EVM_FROM_BLOCK', 'registry.fromBlock', asIs],
  ['PROUTER_RELAYER_KEY_FILE', 'registry.relayerKeyFile', asIs],
  ['PROUTER_ALLOW_ANONYMOUS', 'inbound.allowAnonymous', boolean],
  ['PROUTER_REPORT_PERIOD', 'metering.period', wholeNumber],
  ['PROUTER_ALLOW_PATHS', 'inbound.allowPaths', list],
  [
    'PROUTER_WARM_PEERS',
    'warm.peers',
    (value) => (value === 'all' || value === 'none' ? value : list(value)),
  ],
]

/** The names of every variable read here (docs and tests). */
export const ENV_VARIABLES: readonly string[] = VARIABLES.map(([name]) => name)

export function envLayer(env: NodeJS.ProcessEnv): EnvLayer {
  const layer: EnvLayer = { input: {}, origins: new Map() }
  for (const [name, path, parse] of VARIABLES) {
    const value = env[name]?.trim()
    if (value === undefined || value === '') continue
    setPath(layer.input, path, parse(value, name))
    layer.origins.set(path, name)
  }
  if (layer.origins.has('router.sam') && !layer.origins.has('router.mode')) {
    setPath(layer.input, 'router.mode', 'attach') // PROUTER_SAM alone means: attach to that router
    layer.origins.set('router.mode', 'PROUTER_SAM')
  }
  return layer
}

/** Set `path` (dotted) in `target`, creating the objects on the way. */
export function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.')
  const last = keys.pop() ?? path
  let node = target
  for (const key of keys) {
    const next = node[key]
    node = isRecord(next) ? next : (node[key] = {})
  }
  node[last] = value
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function wholeNumber(value: string, name: string): number {
  if (!/^\d{1,15}$/.test(value)) throw invalidOption(name, `"${value}" is not a whole number`)
  return Number(value)
}

function oneOf(...choices: string[]): Parse {
  return (value, name) => {
    if (!choices.includes(value)) throw invalidOption(name, `"${value}" is not one of ${choices.join(', ')}`)
    return value
  }
}

function boolean(value: string, name: string): boolean {
  if (value === 'true' || value === '1') return true
  if (value === 'false' || value === '0') return false
  throw invalidOption(name, `"${value}" is not true or false`)
}

function list(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '')
}

/** `host:port`, `[v6]:port`. */
function hostPort(value: string, name: string): { host: string; port: number } {
  const match = /^\[?([^[\]\s]+?)\]?:(\d{1,5})$/.exec(value)
  if (match?.[1] === undefined || match[2] === undefined) {
    throw invalidOption(name, `"${value}" is not host:port`)
  }
  return { host: match[1], port: Number(match[2]) }
}
