import assert from 'node:assert/strict'
import { chmod, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import {
  DEFAULT_API_PORT,
  DEFAULT_DAEMON_TUNNEL_QUANTITY,
  DEFAULT_INBOUND_ANONYMOUS_IDLE_TIMEOUT,
  DEFAULT_INBOUND_MAX_STREAMS,
  DEFAULT_INBOUND_MAX_STREAMS_PER_CALLER,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_STREAM_WINDOW,
  DEFAULT_OUTBOUND_CONNECT_TIMEOUT,
  DEFAULT_OUTBOUND_PROBE_AFTER,
  DEFAULT_OUTBOUND_PROBE_TIMEOUT,
  DEFAULT_PUBLISH_REFRESH_INTERVAL,
  DEFAULT_RATE_LIMIT_BURST,
  DEFAULT_RATE_LIMIT_PER_SECOND,
  DEFAULT_TUNNEL_LENGTH,
  DEFAULT_WARM_INTERVAL,
} from '../../../src/constants.js'
import { API_TOKEN_FILE, loadDaemonConfig } from '../../../src/daemon/config.js'
import { dataDir, invalid, tempDir, TOKEN } from '../../helpers/daemon-config.js'
import type { DaemonConfigInput } from '../../../src/daemon/config.js'
import { ENV_VARIABLES } from '../../../src/daemon/config-env.js'

const KEY_A = '0x' + 'ab'.repeat(32)
async function jsonFile(dir: string, content: unknown, name = 'prouter.json'): Promise<string> {
  const file = join(dir, name)
  await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content))
  return file
}

const withData = (dir: string, flags: DaemonConfigInput = {}): DaemonConfigInput => ({
  ...flags,
  dataDir: dir,
})

describe('loadDaemonConfig: defaults', () => {
  test('a managed router on the public network, local registry, loopback API', async (t) => {
    const dir = await dataDir(t)
    const c = await loadDaemonConfig({ flags: { dataDir: dir } })
    assert.equal(c.dataDir, dir)
    assert.equal(c.keysDir, join(dir, 'keys'))
    assert.ok(c.router.mode === 'managed' && !('host' in c.router), 'no host: i2pd finds its own address')
    assert.deepEqual(c.router, {
      mode: 'managed',
      dataDir: join(dir, 'router'),
      i2pd: undefined,
      i2pdRelease: undefined,
      port: 0,
      netId: 2,
      published: true,
      floodfill: false,
      bandwidth: 'O',
      reservedRange: true,
      nat: true,
      ssu2: true,
      ipv6: false,
      transit: true,
      samPort: 0,
      i2pcontrolPort: 0,
      consolePort: 0,
      reseed: {
        zipFile: undefined,
        su3File: undefined,
        urls: [],
        verify: true,
        threshold: 25,
        fromRegistry: false,
      },
      publishRouterInfo: true,
    })
    const hops = { length: DEFAULT_TUNNEL_LENGTH, quantity: DEFAULT_DAEMON_TUNNEL_QUANTITY }
    assert.deepEqual(c.tunnels, { inbound: hops, outbound: hops, maxStreamWindow: DEFAULT_MAX_STREAM_WINDOW })
    assert.deepEqual(c.registry, { kind: 'local', dir: join(dir, 'registry') })
    assert.deepEqual(c.api, { host: '127.0.0.1', port: DEFAULT_API_PORT, token: TOKEN })
    assert.deepEqual(c.service, { url: undefined })
    assert.deepEqual(c.inbound, {
      allowAnonymous: true,
      allowPaths: undefined,
      maxStreams: DEFAULT_INBOUND_MAX_STREAMS,
      maxStreamsPerCaller: DEFAULT_INBOUND_MAX_STREAMS_PER_CALLER,
      anonymousIdleTimeout: DEFAULT_INBOUND_ANONYMOUS_IDLE_TIMEOUT,
      rateLimit: { perSecond: DEFAULT_RATE_LIMIT_PER_SECOND, burst: DEFAULT_RATE_LIMIT_BURST },
    })
    assert.equal(c.outbound.connectTimeout, DEFAULT_OUTBOUND_CONNECT_TIMEOUT)
    assert.equal(c.outbound.probeAfter, DEFAULT_OUTBOUND_PROBE_AFTER)
    assert.equal(c.outbound.probeTimeout, DEFAULT_OUTBOUND_PROBE_TIMEOUT)
    assert.equal(c.limits.maxBodyBytes, DEFAULT_MAX_BODY_BYTES)
    assert.deepEqual(c.warm, { peers: 'all', interval: DEFAULT_WARM_INTERVAL, max: 64 })
    assert.deepEqual(c.publish, { enabled: true, refreshInterval: DEFAULT_PUBLISH_REFRESH_INTERVAL })
  })

  test('relative paths resolve against the working folder', async (t) => {
    const dir = await dataDir(t)
    const c = await loadDaemonConfig({ flags: { dataDir: dir, keysDir: 'my-keys' } })
    assert.equal(c.keysDir, join(process.cwd(), 'my-keys'))
  })

  test('the result is frozen, deep down', async (t) => {
    const c = await loadDaemonConfig({ flags: { dataDir: await dataDir(t) } })
    assert.ok(Object.isFrozen(c))
    assert.ok(Object.isFrozen(c.router))
    assert.ok(Object.isFrozen(c.inbound.rateLimit))
    assert.throws(() => {
      ;(c.api as { port: number }).port = 1
    }, TypeError)
  })
})

describe('loadDaemonConfig: layers', () => {
  test('file < env < flags', async (t) => {
    const dir = await dataDir(t)
    const file = await jsonFile(dir, {
      dataDir: dir,
      api: { port: 1111 },
      inbound: { maxStreams: 5, allowAnonymous: false },
      limits: { idleTimeout: 1234 },
    })
    const env = { PROUTER_API_PORT: '2222', PROUTER_ALLOW_ANONYMOUS: 'true' }
    const c = await loadDaemonConfig({ file, env, flags: { api: { port: 3333 } } })
    assert.equal(c.api.port, 3333, 'flag over env')
    assert.equal(c.inbound.allowAnonymous, true, 'env over file')
    assert.equal(c.inbound.maxStreams, 5, 'file over default')
    assert.equal(c.limits.idleTimeout, 1234)
    assert.equal(c.limits.requestTimeout, 5 * 60 * 1000, 'siblings keep their defaults')
  })

  test('arrays replace, not merge', async (t) => {
    const dir = await dataDir(t)
    const file = await jsonFile(dir, { dataDir: dir, inbound: { allowPaths: ['/a', '/b'] } })
    const c = await loadDaemonConfig({ file, flags: { inbound: { allowPaths: ['/c*'] } } })
    assert.deepEqual(c.inbound.allowPaths, ['/c*'])
  })

  test('a missing, unreadable or non-JSON file names --config', async (t) => {
    const dir = await tempDir(t)
    await assert.rejects(loadDaemonConfig({ file: join(dir, 'none.json') }), invalid('--config', 'ENOENT'))
    const bad = await jsonFile(dir, '{ "api": ')
    await assert.rejects(loadDaemonConfig({ file: bad }), invalid('--config', 'is not JSON'))
    const list = await jsonFile(dir, '[]', 'list.json')
    await assert.rejects(loadDaemonConfig({ file: list }), invalid('--config', 'JSON object'))
  })

  test('hops sets both lengths; an explicit length wins in its layer; later layers win', async (t) => {
    const dir = await dataDir(t)
    const both = await loadDaemonConfig({ flags: withData(dir, { hops: 1 }) })
    assert.equal(both.tunnels.inbound.length, 1)
    assert.equal(both.tunnels.outbound.length, 1)
    const mixed = await loadDaemonConfig({
      flags: withData(dir, { hops: 1, tunnels: { inbound: { length: 4 } } }),
    })
    assert.deepEqual([mixed.tunnels.inbound.length, mixed.tunnels.outbound.length], [4, 1])
    const file = await jsonFile(dir, { tunnels: { inbound: { length: 5 } } })
    const later = await loadDaemonConfig({ file, env: { PROUTER_HOPS: '0' }, flags: { dataDir: dir } })
    assert.deepEqual([later.tunnels.inbound.length, later.tunnels.outbound.length], [0, 0])
    await assert.rejects(loadDaemonConfig({ flags: withData(dir, { hops: 8 }) }), invalid('hops', '0..7'))
  })
})

describe('loadDaemonConfig: validation names the option', () => {
  test('an unknown key, by its full dotted path', async (t) => {
    const dir = await dataDir(t)
    const file = await jsonFile(dir, { dataDir: dir, inbound: { maxStream: 3 } })
    await assert.rejects(
      loadDaemonConfig({ file }),
      invalid('inbound.maxStream', 'option inbound.maxStream: is not a known option'),
    )
    const top = await jsonFile(dir, { dataDir: dir, hop: 3 }, 'top.json')
    await assert.rejects(loadDaemonConfig({ file: top }), invalid('hop', 'is not a known option'))
  })

  test('metering: defaults, and bounds named (a period of at most a day, at most 4096 named peers)', async (t) => {
    const dir = await dataDir(t)
    const c = await loadDaemonConfig({ flags: withData(dir, {}) })
    assert.deepEqual(c.metering, {
      period: 600_000,
      sampleInterval: 10_000,
      checkpointInterval: 60_000,
      maxPeers: 1000,
      publishReports: true,
    })
    await assert.rejects(
      loadDaemonConfig({ flags: withData(dir, { metering: { period: 999 } }) }),
      invalid('metering.period', '1000..86400000'),
    )
    await assert.rejects(
      loadDaemonConfig({ flags: withData(dir, { metering: { maxPeers: 5000 } }) }),
      invalid('metering.maxPeers', '1..4096'),
    )
  })

  test('a bad port, a fraction, a string: named, never clamped', async (t) => {
    const dir = await dataDir(t)
    await assert.rejects(
      loadDaemonConfig({ flags: withData(dir, { api: { port: 70000 } }) }),
      invalid('api.port', '65535'),
    )
    await assert.rejects(
      loadDaemonConfig({ flags: withData(dir, { api: { port: 1.5 } }) }),
      invalid('api.port'),
    )
    const file = await jsonFile(dir, { dataDir: dir, router: { samPort: '7656' } })
    await assert.rejects(loadDaemonConfig({ file }), invalid('router.samPort'))
    const quantity = { tunnels: { outbound: { quantity: 17 } } }
    await assert.rejects(
      loadDaemonConfig({ flags: withData(dir, quantity) }),
      invalid('tunnels.outbound.quantity', '1..16'),
    )
    const window = { tunnels: { maxStreamWindow: 513 } }
    await assert.rejects(
      loadDaemonConfig({ flags: withData(dir, window) }),
      invalid('tunnels.maxStreamWindow', '3..512'),
    )
    const timeout = { limits: { idleTimeout: 0 } }
    await assert.rejects(loadDaemonConfig({ flags: withData(dir, timeout) }), invalid('limits.idleTimeout'))
    const refresh = { publish: { refreshInterval: 4 * 60 * 60 * 1000 } }
    await assert.rejects(
      loadDaemonConfig({ flags: withData(dir, refresh) }),
      invalid('publish.refreshInterval', '4 h'),
    )
  })

  test('the API host must be loopback', async (t) => {
    const dir = await dataDir(t)
    for (const host of ['0.0.0.0', '192.168.1.2', 'example.org', '::']) {
      await assert.rejects(
        loadDaemonConfig({ flags: withData(dir, { api: { host } }) }),
        invalid('api.host', 'loopback'),
      )
    }
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', 'localhost']) {
      assert.equal((await loadDaemonConfig({ flags: withData(dir, { api: { host } }) })).api.host, host)
    }
  })

  test('allowPaths: each starts with /, * only at the end', async (t) => {
    const dir = await dataDir(t)
    const ok = await loadDaemonConfig({
      flags: withData(dir, { inbound: { allowPaths: ['/v1/status', '/prpc/*'] } }),
    })
    assert.deepEqual(ok.inbound.allowPaths, ['/v1/status', '/prpc/*'])
    for (const [path, index] of [
      ['v1', 0],
      ['/a*b', 0],
      ['/a b', 0],
    ] as const) {
      const flags = withData(dir, { inbound: { allowPaths: [path] } })
      await assert.rejects(
        loadDaemonConfig({ flags }),
        invalid(`inbound.allowPaths.${index}`, "start with '/'"),
      )
    }
  })

  test('service.url must be http://', async (t) => {
    const dir = await dataDir(t)
    const c = await loadDaemonConfig({
      flags: withData(dir, { service: { url: 'http://127.0.0.1:8000/base' } }),
    })
    assert.equal(c.service.url, 'http://127.0.0.1:8000/base')
    for (const url of ['https://127.0.0.1:8000', 'not a url']) {
      await assert.rejects(
        loadDaemonConfig({ flags: withData(dir, { service: { url } }) }),
        invalid('service.url'),
      )
    }
  })

  test('warm.peers: all, none, or worker keys (lower-cased)', async (t) => {
    const dir = await dataDir(t)
    const c = await loadDaemonConfig({
      flags: withData(dir, { warm: { peers: [KEY_A.toUpperCase().replace('0X', '0x')] } }),
    })
    assert.deepEqual(c.warm.peers, [KEY_A])
    const none = await loadDaemonConfig({ env: { PROUTER_WARM_PEERS: 'none' }, flags: { dataDir: dir } })
    assert.equal(none.warm.peers, 'none')
    const bad = withData(dir, { warm: { peers: ['0x12'] } })
    await assert.rejects(loadDaemonConfig({ flags: bad }), invalid('warm.peers.0', 'worker key'))
  })

  test('attach needs sam; managed-only options are unknown there', async (t) => {
    const dir = await dataDir(t)
    await assert.rejects(
      loadDaemonConfig({ flags: withData(dir, { router: { mode: 'attach' } }) }),
      invalid('router.sam', 'is required'),
    )
    const file = await jsonFile(dir, {
      dataDir: dir,
      router: { mode: 'attach', sam: { host: 'h', port: 1 }, netId: 3 },
    })
    await assert.rejects(loadDaemonConfig({ file }), invalid('router.netId', 'is not a known option'))
    const mode = await jsonFile(dir, { dataDir: dir, router: { mode: 'remote' } }, 'mode.json')
    await assert.rejects(loadDaemonConfig({ file: mode }), invalid('router.mode', '"managed" or "attach"'))
  })
})

describe('loadDaemonConfig: environment', () => {
  test('PROUTER_SAM alone attaches; a later mode switch drops the other mode options', async (t) => {
    const dir = await dataDir(t)
    const file = await jsonFile(dir, { dataDir: dir, router: { netId: 7, floodfill: true } })
    const c = await loadDaemonConfig({ file, env: { PROUTER_SAM: '127.0.0.1:7656' } })
    assert.deepEqual(c.router, {
      mode: 'attach',
      sam: { host: '127.0.0.1', port: 7656 },
      i2pcontrol: undefined,
      routerInfoFile: undefined,
    })
    const managed = await loadDaemonConfig({
      env: { PROUTER_SAM: '127.0.0.1:7656', PROUTER_ROUTER_MODE: 'managed' },
      flags: { dataDir: dir },
    }).catch((err: unknown) => err)
    assert.ok(invalid('PROUTER_SAM', 'router.sam is not a known option')(managed))
  })

  test('every documented variable maps to its option', async (t) => {
    const dir = await dataDir(t)
    const env = {
      PROUTER_DATA_DIR: dir,
      PROUTER_KEYS_DIR: join(dir, 'k'),
      PROUTER_I2PD: '/usr/sbin/i2pd',
      PROUTER_I2PD_RELEASE: 'sid',
      PROUTER_NETID: '77',
      PROUTER_RESEED_FROM_REGISTRY: 'true',
      PROUTER_HOPS: '2',
      PROUTER_API_HOST: 'localhost',
      PROUTER_API_PORT: '0',
      PROUTER_SERVICE_URL: 'http://127.0.0.1:8000',
      PROUTER_REGISTRY_DIR: join(dir, 'reg'),
      PROUTER_ALLOW_ANONYMOUS: 'false',
      PROUTER_ALLOW_PATHS: '/a, /b*',
      PROUTER_WARM_PEERS: KEY_A,
      PROUTER_REPORT_PERIOD: '300000',
    }
    const c = await loadDaemonConfig({ env })
    assert.equal(c.dataDir, dir)
    assert.equal(c.keysDir, join(dir, 'k'))
    assert.ok(c.router.mode === 'managed')
    assert.equal(c.router.i2pd, '/usr/sbin/i2pd')
    assert.equal(c.router.i2pdRelease, 'sid')
    assert.equal(c.router.netId, 77)
    assert.equal(c.router.reseed.fromRegistry, true)
    assert.equal(c.tunnels.outbound.length, 2)
    assert.deepEqual(c.api, { host: 'localhost', port: 0, token: TOKEN })
    assert.equal(c.service.url, 'http://127.0.0.1:8000')
    assert.deepEqual(c.registry, { kind: 'local', dir: join(dir, 'reg') })
    assert.equal(c.inbound.allowAnonymous, false)
    assert.deepEqual(c.inbound.allowPaths, ['/a', '/b*'])
    assert.deepEqual(c.warm.peers, [KEY_A])
    assert.equal(c.metering.period, 300_000)
    assert.equal(ENV_VARIABLES.length, 25)
  })

  test('a malformed value names the variable', async (t) => {
    const dir = await dataDir(t)
    const cases: Array<[Record<string, string>, string, string]> = [
      [{ PROUTER_API_PORT: 'eighty' }, 'PROUTER_API_PORT', 'not a whole number'],
      [{ PROUTER_I2PD_RELEASE: 'bookworm' }, 'PROUTER_I2PD_RELEASE', 'trixie'],
      [{ PROUTER_API_PORT: '70000' }, 'PROUTER_API_PORT', 'api.port must be a TCP port'],
      [{ PROUTER_SAM: 'nowhere' }, 'PROUTER_SAM', 'host:port'],
      [{ PROUTER_SAM: 'h:0' }, 'PROUTER_SAM', 'router.sam.port'],
      [{ PROUTER_ALLOW_ANONYMOUS: 'maybe' }, 'PROUTER_ALLOW_ANONYMOUS', 'true or false'],
      [{ PROUTER_ROUTER_MODE: 'remote' }, 'PROUTER_ROUTER_MODE', 'managed, attach'],
      [{ PROUTER_REGISTRY: 'ipfs' }, 'PROUTER_REGISTRY', 'local, http, evm'],
      [{ PROUTER_API_HOST: '0.0.0.0' }, 'PROUTER_API_HOST', 'loopback'],
      [{ PROUTER_HOPS: '9' }, 'PROUTER_HOPS', 'hops'],
      [{ PROUTER_REGISTRY_URL: 'http://r' }, 'PROUTER_REGISTRY_URL', 'registry.url is not a known option'],
    ]
    for (const [env, variable, text] of cases) {
      await assert.rejects(loadDaemonConfig({ env, flags: { dataDir: dir } }), invalid(variable, text))
    }
  })

  test('a flag over a bad variable: the flag is what counts', async (t) => {
    const dir = await dataDir(t)
    const env = { PROUTER_API_PORT: '70000' }
    assert.equal((await loadDaemonConfig({ env, flags: withData(dir, { api: { port: 5 } }) })).api.port, 5)
    const flags = withData(dir, { api: { port: 70001 } })
    await assert.rejects(loadDaemonConfig({ env, flags }), invalid('api.port'))
  })
})

describe('loadDaemonConfig: the API token', () => {
  test('generated once into <dataDir>/api.token (0600, folder 0700), then reused', async (t) => {
    const dir = join(await tempDir(t), 'state')
    const first = await loadDaemonConfig({ flags: { dataDir: dir } })
    assert.match(first.api.token, /^[0-9a-f]{64}$/)
    assert.equal((await stat(dir)).mode & 0o777, 0o700)
    const file = join(dir, API_TOKEN_FILE)
    assert.equal((await stat(file)).mode & 0o777, 0o600)
    assert.equal((await readFile(file, 'utf8')).trim(), first.api.token)
    const second = await loadDaemonConfig({ flags: { dataDir: dir } })
    assert.equal(second.api.token, first.api.token)
  })

  test('from api.tokenFile, trimmed; refused when group-readable, short or missing', async (t) => {
    const dir = await dataDir(t)
    const file = join(dir, 'my.token')
    await writeFile(file, `  ${TOKEN}-2\n`, { mode: 0o600 })
    const c = await loadDaemonConfig({ flags: withData(dir, { api: { tokenFile: file } }) })
    assert.equal(c.api.token, `${TOKEN}-2`)
    assert.ok(!JSON.stringify(c).includes('my.token'), 'the file name is not kept')
    await chmod(file, 0o640)
    const flags = withData(dir, { api: { tokenFile: file } })
    await assert.rejects(loadDaemonConfig({ flags }), invalid('api.tokenFile', 'mode 640', 'chmod 600'))
    await writeFile(file, 'short', { mode: 0o600 })
    await chmod(file, 0o600)
    await assert.rejects(loadDaemonConfig({ flags }), invalid('api.tokenFile', 'under 16'))
    const missing = withData(dir, { api: { tokenFile: join(dir, 'none') } })
    await assert.rejects(loadDaemonConfig({ flags: missing }), invalid('api.tokenFile', 'ENOENT'))
    const env = { PROUTER_API_TOKEN_FILE: file }
    await assert.rejects(loadDaemonConfig({ env, flags: { dataDir: dir } }), invalid('api.tokenFile'))
  })

  test('a group-readable generated token file is refused too', async (t) => {
    const dir = await dataDir(t)
    await chmod(join(dir, API_TOKEN_FILE), 0o644)
    await assert.rejects(loadDaemonConfig({ flags: { dataDir: dir } }), invalid('api.tokenFile', 'chmod 600'))
  })
})

describe('loadDaemonConfig: registry', () => {
  test('http with a token file (trimmed); the default URL; token and tokenFile together refused', async (t) => {
    const dir = await dataDir(t)
    const tokenFile = join(dir, 'registry.token')
    await writeFile(tokenFile, 'registry-secret\n', { mode: 0o600 })
    const env = {
      PROUTER_REGISTRY: 'http',
      PROUTER_REGISTRY_URL: 'http://10.0.0.1:7610',
      PROUTER_REGISTRY_TOKEN_FILE: tokenFile,
    }
    const c = await loadDaemonConfig({ env, flags: { dataDir: dir } })
    assert.deepEqual(c.registry, { kind: 'http', url: 'http://10.0.0.1:7610', token: 'registry-secret' })
    const plain = await loadDaemonConfig({ flags: withData(dir, { registry: { kind: 'http' } }) })
    assert.deepEqual(plain.registry, { kind: 'http', url: 'http://127.0.0.1:7610' })
    const both = withData(dir, { registry: { kind: 'http', token: 'x', tokenFile } })
    await assert.rejects(loadDaemonConfig({ flags: both }), invalid('registry.tokenFile', 'not both'))
  })

  test('a later layer switching kind replaces the section', async (t) => {
    const dir = await dataDir(t)
    const file = await jsonFile(dir, { dataDir: dir, registry: { kind: 'http', url: 'http://r:1' } })
    const c = await loadDaemonConfig({ file, flags: { registry: { kind: 'local' } } })
    assert.deepEqual(c.registry, { kind: 'local', dir: join(dir, 'registry') })
  })

  test('evm: contract, fromBlock as bigint, relayer key file checked', async (t) => {
    const dir = await dataDir(t)
    const keyFile = join(dir, 'relayer.key')
    await writeFile(keyFile, `0x${'11'.repeat(32)}\n`, { mode: 0o600 })
    const contract = `0x${'22'.repeat(20)}`
    const env = {
      PROUTER_REGISTRY: 'evm',
      PROUTER_EVM_RPC: 'http://127.0.0.1:8545',
      PROUTER_EVM_CONTRACT: contract,
      PROUTER_EVM_FROM_BLOCK: '12',
      PROUTER_RELAYER_KEY_FILE: keyFile,
    }
    const c = await loadDaemonConfig({ env, flags: { dataDir: dir } })
    assert.deepEqual(c.registry, {
      kind: 'evm',
      rpcUrl: 'http://127.0.0.1:8545',
      contract,
      fromBlock: 12n,
      relayerKey: `0x${'11'.repeat(32)}`,
      indexPath: join(dir, 'registry-evm-index.json'),
    })
    await writeFile(keyFile, 'not a key', { mode: 0o600 })
    await assert.rejects(
      loadDaemonConfig({ env, flags: { dataDir: dir } }),
      invalid('registry.relayerKeyFile', '64 hex'),
    )
    const badContract = { ...env, PROUTER_EVM_CONTRACT: '0x12' }
    await assert.rejects(
      loadDaemonConfig({ env: badContract, flags: { dataDir: dir } }),
      invalid('PROUTER_EVM_CONTRACT', 'registry.contract'),
    )
  })
})
