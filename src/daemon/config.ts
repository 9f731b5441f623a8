/**
 * Loading the daemon's config: defaults -> JSON file -> `PROUTER_*` environment -> flags, deep-merged (later
 * layers win, arrays replace), validated once by one strict schema, then resolved (paths against the working
 * folder, token and key files read, the API token generated on first start) and deep-frozen.
 *
 * Every error is ERR_INVALID_OPTION naming the dotted option (`api.port`), the variable that set it
 * (`PROUTER_API_PORT`) or `--config` for the file itself. Nothing is clamped: out of range is refused.
 * docs/config.md lists every option.
 */
import { randomBytes } from 'node:crypto'
import { mkdir, open, readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import type { z } from 'zod'
import { API_TOKEN_BYTES, MAX_KEY_FILE_BYTES, MIN_API_TOKEN_LENGTH } from '../constants.js'
import { invalidOption, isPRouterError } from '../errors.js'
import type { PRouterError } from '../errors.js'
import { KEY_DIR_MODE, writeKeyFile } from '../identity/key-file.js'
import type { RegistrySpec } from '../registry/index.js'
import { EVM_INDEX_FILE } from '../registry/open.js'
import type { DaemonConfig, ManagedRouterConfig } from './config-types.js'
import { envLayer, isRecord } from './config-env.js'
import { parseConfig } from './config-schema.js'
import type { DaemonConfigInput, ParsedConfig } from './config-schema.js'

export type { DaemonConfigInput } from './config-schema.js'

/** The generated API token's file, in the data folder. */
export const API_TOKEN_FILE = 'api.token'

type Layer = Record<string, unknown>

/** The first layer: which router and registry, unless a later layer says otherwise. */
const DEFAULT_LAYER: Layer = { router: { mode: 'managed' }, registry: { kind: 'local' } }

/** Sections a later layer replaces whole when it switches their kind (their options differ by kind). */
const TAGGED_SECTIONS: Record<string, string> = { router: 'mode', registry: 'kind' }

export async function loadDaemonConfig(input: {
  file?: string
  env?: NodeJS.ProcessEnv
  flags?: DaemonConfigInput
}): Promise<Readonly<DaemonConfig>> {
  const file = input.file === undefined ? {} : await readConfigFile(input.file)
  const env = envLayer(input.env ?? {})
  const flags: Layer = { ...input.flags }
  const layers = [DEFAULT_LAYER, file, env.input, flags].map(expandHops)
  const merged = layers.reduce((base, over) => mergeLayer(base, over, TAGGED_SECTIONS))
  const parsed = parseConfig(merged)
  if (!parsed.success) throw issueError(parsed.error.issues[0], setBy(env.origins, flags))
  return deepFreeze(await resolveConfig(parsed.data))
}

// ---- Layers

async function readConfigFile(file: string): Promise<Layer> {
  const path = resolve(file)
  const text = await readFile(path, 'utf8').catch((err: unknown) => {
    throw invalidOption('--config', `cannot read ${path} (${errnoCode(err)})`)
  })
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (err) {
    throw invalidOption('--config', `${path} is not JSON: ${(err as Error).message}`)
  }
  if (!isRecord(json)) throw invalidOption('--config', `${path} must hold a JSON object`)
  return json
}

/** `hops: n` -> both tunnel lengths, under the layer's own explicit values. `hops` stays, for validation. */
function expandHops(layer: Layer): Layer {
  if (typeof layer.hops !== 'number') return layer
  const length = { length: layer.hops }
  return mergeLayer({ tunnels: { inbound: length, outbound: length } }, layer)
}

/** `over` on top of `base`: objects merge, anything else (arrays too) replaces; undefined is skipped. */
function mergeLayer(base: Layer, over: Layer, tagged: Record<string, string> = {}): Layer {
  const out = new Map(Object.entries(base))
  for (const [key, value] of Object.entries(over)) {
    if (value === undefined) continue
    const prior = out.get(key)
    const merge = isRecord(prior) && isRecord(value) && !switches(prior, value, tagged[key])
    out.set(key, merge ? mergeLayer(prior, value) : value)
  }
  return Object.fromEntries(out) // own data properties: a `__proto__` key stays a key
}

/** `over` on top of `base`, as config layers merge (a `router.mode` or `registry.kind` switch replaces). */
export function mergeConfigInput(base: DaemonConfigInput, over: DaemonConfigInput): DaemonConfigInput {
  return mergeLayer(base, over, TAGGED_SECTIONS)
}

function switches(prior: Layer, over: Layer, tag: string | undefined): boolean {
  return tag !== undefined && over[tag] !== undefined && over[tag] !== prior[tag]
}

/** Options set by an environment variable and not overridden by a flag. */
function setBy(origins: Map<string, string>, flags: Layer): Map<string, string> {
  return new Map([...origins].filter(([path]) => getPath(flags, path) === undefined))
}

function getPath(layer: Layer, path: string): unknown {
  let node: unknown = layer
  for (const key of path.split('.')) node = isRecord(node) ? node[key] : undefined
  return node
}

// ---- Errors

function issueError(issue: z.core.$ZodIssue | undefined, origins: Map<string, string>): PRouterError {
  if (issue === undefined) return invalidOption('config', 'is not valid')
  const unknownKey = issue.code === 'unrecognized_keys' ? issue.keys[0] : undefined
  const path = [...issue.path, ...(unknownKey === undefined ? [] : [unknownKey])].join('.')
  const why = unknownKey === undefined ? issue.message : 'is not a known option'
  const variable = originOf(path, origins)
  if (variable !== undefined) return invalidOption(variable, `${path} ${why}`)
  return invalidOption(path === '' ? 'config' : path, why)
}

/** The variable that set `path` or one of its parent sections. */
function originOf(path: string, origins: Map<string, string>): string | undefined {
  const keys = path.split('.')
  for (let n = keys.length; n > 0; n--) {
    const variable = origins.get(keys.slice(0, n).join('.'))
    if (variable !== undefined) return variable
  }
  return undefined
}

function errnoCode(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? String(err)
}

// ---- Resolving: paths, files, secrets

async function resolveConfig(c: ParsedConfig): Promise<DaemonConfig> {
  const dataDir = resolve(c.dataDir)
  return {
    dataDir,
    keysDir: resolve(c.keysDir ?? join(dataDir, 'keys')),
    router: c.router.mode === 'managed' ? resolveManaged(c.router, dataDir) : resolveAttached(c.router),
    tunnels: c.tunnels,
    registry: await registrySpec(c.registry, dataDir),
    api: { host: c.api.host, port: c.api.port, token: await apiToken(c.api.tokenFile, dataDir) },
    service: { url: c.service.url },
    inbound: { ...c.inbound, allowPaths: c.inbound.allowPaths },
    outbound: c.outbound,
    limits: c.limits,
    warm: c.warm,
    publish: c.publish,
    metering: c.metering,
    messages: { ...c.messages, samUdpPort: c.messages.samUdpPort },
  }
}

function resolveManaged(
  r: Extract<ParsedConfig['router'], { mode: 'managed' }>,
  dataDir: string,
): ManagedRouterConfig {
  const { zipFile, su3File } = r.reseed
  if (r.reseed.fromRegistry && (zipFile !== undefined || su3File !== undefined)) {
    throw invalidOption('router.reseed.fromRegistry', 'builds the bundle itself: give no zipFile or su3File')
  }
  return {
    ...r,
    dataDir: resolve(r.dataDir ?? join(dataDir, 'router')),
    i2pd: r.i2pd === undefined ? undefined : commandPath(r.i2pd),
    i2pdRelease: r.i2pdRelease,
    reseed: {
      ...r.reseed,
      zipFile: zipFile === undefined ? undefined : resolve(zipFile),
      su3File: su3File === undefined || /^https?:\/\//i.test(su3File) ? su3File : resolve(su3File),
    },
  }
}

function resolveAttached(r: Extract<ParsedConfig['router'], { mode: 'attach' }>): DaemonConfig['router'] {
  const control = r.i2pcontrol
  return {
    mode: 'attach',
    sam: r.sam,
    i2pcontrol: control === undefined ? undefined : { ...control, certFile: resolve(control.certFile) },
    routerInfoFile: r.routerInfoFile === undefined ? undefined : resolve(r.routerInfoFile),
  }
}

/** A path is resolved; a bare name (`i2pd`) stays a command looked up on PATH. */
function commandPath(command: string): string {
  return command.includes('/') ? resolve(command) : command
}

async function registrySpec(r: ParsedConfig['registry'], dataDir: string): Promise<RegistrySpec> {
  switch (r.kind) {
    case 'local':
      return { kind: 'local', dir: resolve(r.dir ?? join(dataDir, 'registry')) }
    case 'http': {
      if (r.token !== undefined && r.tokenFile !== undefined) {
        throw invalidOption('registry.tokenFile', 'give registry.token or registry.tokenFile, not both')
      }
      const token = r.tokenFile === undefined ? r.token : await readSecret(r.tokenFile, 'registry.tokenFile')
      return { kind: 'http', url: r.url, ...(token === undefined ? {} : { token }) }
    }
    case 'evm': {
      const { relayerKeyFile, ...spec } = r
      const relayerKey = relayerKeyFile === undefined ? undefined : await readRelayerKey(relayerKeyFile)
      return {
        ...spec,
        contract: spec.contract as `0x${string}`,
        ...(relayerKey === undefined ? {} : { relayerKey }),
        indexPath: join(dataDir, EVM_INDEX_FILE),
      }
    }
  }
}

async function readRelayerKey(file: string): Promise<`0x${string}`> {
  const key = await readSecret(file, 'registry.relayerKeyFile')
  if (!/^0x[0-9a-fA-F]{64}$/.test(key)) {
    throw invalidOption('registry.relayerKeyFile', `${resolve(file)} holds no 0x + 64 hex key`)
  }
  return key as `0x${string}`
}

/** The API token: from `tokenFile`, else `<dataDir>/api.token`, else a new one written there (0600). */
async function apiToken(tokenFile: string | undefined, dataDir: string): Promise<string> {
  const file = resolve(tokenFile ?? join(dataDir, API_TOKEN_FILE))
  const token = await readSecret(file, 'api.tokenFile', { missingOk: tokenFile === undefined })
  if (token === undefined) return createApiToken(file, dataDir)
  if (token.length < MIN_API_TOKEN_LENGTH) {
    throw invalidOption('api.tokenFile', `${file} holds under ${MIN_API_TOKEN_LENGTH} characters`)
  }
  return token
}

async function createApiToken(file: string, dataDir: string): Promise<string> {
  const token = randomBytes(API_TOKEN_BYTES).toString('hex')
  try {
    await mkdir(dataDir, { recursive: true, mode: KEY_DIR_MODE })
    await writeKeyFile(file, token + '\n', { overwrite: false })
  } catch (err) {
    if (isPRouterError(err, 'ERR_KEY_FILE_EXISTS')) return apiToken(file, dataDir) // another daemon won
    throw invalidOption('api.tokenFile', `cannot write ${file} (${errnoCode(err)})`)
  }
  return token
}

/** A secret file's text, trimmed; refused when unreadable, empty, too big, or open to group or others. */
async function readSecret(file: string, option: string): Promise<string>
async function readSecret(
  file: string,
  option: string,
  o: { missingOk: boolean },
): Promise<string | undefined>
async function readSecret(
  file: string,
  option: string,
  o = { missingOk: false },
): Promise<string | undefined> {
  const path = resolve(file)
  const handle = await open(path, 'r').catch((err: unknown) => {
    if (o.missingOk && errnoCode(err) === 'ENOENT') return undefined
    throw invalidOption(option, `cannot read ${path} (${errnoCode(err)})`)
  })
  if (handle === undefined) return undefined
  try {
    const info = await handle.stat()
    if (!info.isFile() || info.size > MAX_KEY_FILE_BYTES) {
      throw invalidOption(option, `${path} is not a file of at most ${MAX_KEY_FILE_BYTES} bytes`)
    }
    if ((info.mode & 0o077) !== 0) {
      const mode = (info.mode & 0o777).toString(8)
      throw invalidOption(option, `${path} has mode ${mode}, open to group or others: chmod 600 it`)
    }
    const text = (await handle.readFile('utf8')).trim()
    if (text === '') throw invalidOption(option, `${path} is empty`)
    return text
  } finally {
    await handle.close()
  }
}

function deepFreeze<T>(value: T): Readonly<T> {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner)
    Object.freeze(value)
  }
  return value
}
