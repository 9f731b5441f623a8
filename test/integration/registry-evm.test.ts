/**
 * The EVM registry against a real node: anvil, spawned offline from the @foundry-rs/anvil npm package.
 * The shared compliance suite first, then what is particular to a chain that cannot check sr25519:
 * forged and replayed bindings are logged but never believed, stale and mismatched ones are reverted by
 * the contract, a dead or hung node is a coded error in bounded time, and the relayer key is never logged.
 *
 *   sh scripts/isolated.sh node --import tsx --test test/integration/registry-evm.test.ts
 */
import { test } from 'node:test'
import type { TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { execFile } from 'node:child_process'
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { CHAIN_SIGNING_LAG, HOUR } from '../../src/constants.js'
import { isPRouterError } from '../../src/errors.js'
import type { ErrorCode } from '../../src/errors.js'
import type { Logger } from '../../src/logger.js'
import { silentLogger } from '../../src/logger.js'
import type { SignedBinding, WorkerKeyPair } from '../../src/identity/index.js'
import type { SignedUsageReport } from '../../src/metering/report.js'
import { reportStorage, signingTimeFor } from '../../src/registry/backend.js'
import { signUsageReport } from '../../src/registry/usage-reports.js'
import { reportArgs, submitReport } from '../../src/registry/evm/reports.js'
import { workerRegistryAbi } from '../../src/registry/evm/artifact.js'
import { createPublisher } from '../../src/daemon/publisher.js'
import { i2pEndpoint, signBinding, workerKeyFromSuri } from '../../src/identity/index.js'
import type { BindingEvent, RegistryBackend } from '../../src/registry/backend.js'
import { createRegistry, newestValid } from '../../src/registry/resolver.js'
import {
  createEvmBackend,
  deployRegistry,
  workerRegistryDeployedBytecode,
} from '../../src/registry/evm/index.js'
import type { DeployedRegistry, EvmBackendInit } from '../../src/registry/evm/index.js'
import { createEvmRpc } from '../../src/registry/evm/rpc.js'
import { createRelayer } from '../../src/registry/evm/relayer.js'
import { submitArgs, submitRaw } from '../../src/registry/evm/submit.js'
import { startAnvil } from '../helpers/anvil.js'
import type { Anvil } from '../helpers/anvil.js'
import { captureLogger, serializeLogs } from '../helpers/capture-logger.js'
import {
  pastPeriod,
  registryCompliance,
  REPORT_PERIOD,
  signedReport,
} from '../helpers/registry-compliance.js'

const logger = silentLogger()
const POLL = 50
const RPC_TIMEOUT = 1_000

interface OnChain {
  anvil: Anvil
  deployed: DeployedRegistry
  backend: RegistryBackend
  /** Another backend on the same contract, with other options (closed with the test). */
  open: (options?: Partial<EvmBackendInit>, log?: Logger) => RegistryBackend
}

/** A fresh anvil, the registry deployed by dev account 0, a backend relaying with dev account 1. */
async function onChain(t: TestContext, log: Logger = logger): Promise<OnChain> {
  const anvil = await startAnvil(t)
  const [deployer, relayer] = anvil.privateKeys
  const deployed = await deployRegistry(
    { rpcUrl: anvil.rpcUrl, relayerKey: deployer ?? '', pollInterval: POLL, txTimeout: 5_000 },
    { logger: log },
  )
  const open = (options: Partial<EvmBackendInit> = {}, l: Logger = log): RegistryBackend => {
    const backend = createEvmBackend(
      {
        rpcUrl: anvil.rpcUrl,
        contract: deployed.address,
        fromBlock: deployed.blockNumber,
        relayerKey: relayer,
        pollInterval: POLL,
        rpcTimeout: RPC_TIMEOUT,
        txTimeout: 5_000,
        ...options,
      },
      { logger: l },
    )
    t.after(() => backend.close())
    return backend
  }
  return { anvil, deployed, backend: open(), open }
}

registryCompliance('evm (WorkerRegistry on anvil)', async (t) => ({
  backend: (await onChain(t)).backend,
  storesRouterInfos: false,
  storesReports: true,
}))

test('deploy returns address, block and tx hash; the code there is the artifact; the block is where events start', async (t) => {
  const { anvil, deployed, open } = await onChain(t)
  const rpc = createEvmRpc({ rpcUrl: anvil.rpcUrl, timeout: RPC_TIMEOUT, pollInterval: POLL })
  const receipt = await rpc.client.getTransactionReceipt({ hash: deployed.txHash })
  assert.equal(receipt.contractAddress, deployed.address)
  assert.equal(receipt.blockNumber, deployed.blockNumber)
  assert.equal(await rpc.client.getCode({ address: deployed.address }), workerRegistryDeployedBytecode)
  t.diagnostic(`deploy gas: ${receipt.gasUsed}`)

  const alice = await workerKeyFromSuri('//Alice')
  await open().publish(signBinding(alice, [endpoint()], Date.now() - 1_000))
  const later = open({ fromBlock: (await rpc.client.getBlockNumber()) + 1n })
  assert.deepEqual(await later.candidates(alice.workerKey), [], 'nothing before fromBlock is read')

  const nowhere = open({ contract: `0x${'00'.repeat(19)}01` })
  await assert.rejects(nowhere.candidates(alice.workerKey), code('ERR_EVM_CONTRACT'))
  const account = open({ contract: receipt.from }) // an account with no code
  await assert.rejects(
    account.publish(signBinding(alice, [endpoint()], Date.now())),
    code('ERR_EVM_CONTRACT'),
  )
})

test('a valid //Alice binding published comes back from candidates and all, byte for byte', async (t) => {
  const { anvil, backend, open } = await onChain(t)
  const [alice, bob] = await Promise.all([workerKeyFromSuri('//Alice'), workerKeyFromSuri('//Bob')])
  const binding = signBinding(alice, [endpoint()], Date.now() - 1_000)

  let t0 = performance.now()
  const { ref } = await backend.publish(binding)
  const publishMs = performance.now() - t0
  assert.match(ref, /^0x[0-9a-f]{64}$/)
  const rpc = createEvmRpc({ rpcUrl: anvil.rpcUrl, timeout: RPC_TIMEOUT, pollInterval: POLL })
  const receipt = await rpc.client.getTransactionReceipt({ hash: ref as `0x${string}` })
  assert.equal(receipt.status, 'success')

  assert.deepEqual(await backend.candidates(alice.workerKey), [binding])
  assert.deepEqual(await backend.candidates(alice.workerKey.toUpperCase().replace('0X', '0x')), [binding])
  assert.deepEqual(await backend.candidates(bob.workerKey), [])
  await backend.publish(signBinding(bob, [endpoint()], Date.now() - 1_000))
  assert.equal((await backend.all()).length, 2)
  const concurrent = await Promise.all(
    ['//Charlie', '//Dave', '//Eve', '//Ferdie'].map(async (suri) => {
      const pair = await workerKeyFromSuri(suri)
      return backend.publish(signBinding(pair, [endpoint()], Date.now() - 1_000))
    }),
  )
  assert.equal(
    new Set(concurrent.map((r) => r.ref)).size,
    4,
    'concurrent publishes from one relayer all land',
  )
  assert.equal((await backend.all()).length, 6)
  const oneBlockAtATime = open({ maxBlockRange: 1 })
  assert.deepEqual(await oneBlockAtATime.all(), await backend.all(), 'windowed eth_getLogs sees the same')

  const registry = createRegistry({ backend, cacheTtlMs: 0 }, { logger })
  t0 = performance.now()
  const resolved = await registry.resolve(alice.workerKey)
  const resolveMs = performance.now() - t0
  assert.deepEqual(resolved.binding, binding)
  t.diagnostic(`gas per submit (1 endpoint, ${binding.payload.length}-byte payload): ${receipt.gasUsed}`)
  t.diagnostic(
    `publish (send + receipt): ${publishMs.toFixed(1)} ms; resolve (getLogs + verify): ${resolveMs.toFixed(1)} ms`,
  )
})

test('one submit of one endpoint stays under 35k gas; gas grows with the payload (1, 4, 16 endpoints)', async (t) => {
  const { anvil, backend } = await onChain(t)
  const rpc = createEvmRpc({ rpcUrl: anvil.rpcUrl, timeout: RPC_TIMEOUT, pollInterval: POLL })
  const alice = await workerKeyFromSuri('//Alice')
  const gas: bigint[] = []
  const lines: string[] = []
  for (const n of [1, 4, 16]) {
    const binding = signBinding(alice, Array.from({ length: n }, endpoint), Date.now() - 1_000)
    const { ref } = await backend.publish(binding)
    const receipt = await rpc.client.getTransactionReceipt({ hash: ref as `0x${string}` })
    gas.push(receipt.gasUsed)
    lines.push(`${n} endpoint(s), ${binding.payload.length} B: ${receipt.gasUsed}`)
  }
  t.diagnostic(`gas per submit: ${lines.join('; ')}`)
  const [one = 0n, four = 0n, sixteen = 0n] = gas
  assert.ok(one < four && four < sixteen, 'calldata and log bytes are paid per byte')
  // The budget docs/registry-evm.md states (21 000 of it is any transaction's base cost).
  assert.ok(one < 35_000n, `one submit of one endpoint cost ${one} gas`)
})

test('watch reports each new submission once, not those before it started, and ends with its signal', async (t) => {
  const { backend } = await onChain(t)
  const alice = await workerKeyFromSuri('//Alice')
  const before = signBinding(alice, [endpoint()], Date.now() - 3_000)
  await backend.publish(before)
  const seen: BindingEvent[] = []
  const controller = new AbortController()
  const watching = backend.watch((e) => seen.push(e), { signal: controller.signal })
  await sleep(3 * POLL) // let the watch read the head it starts from
  const first = signBinding(alice, [endpoint()], Date.now() - 2_000)
  const second = signBinding(alice, [endpoint()], Date.now() - 1_000)
  await backend.publish(first)
  await backend.publish(second)
  await until(() => seen.length >= 2, 5_000)
  await sleep(4 * POLL) // a duplicate would show up here
  controller.abort()
  await watching
  assert.deepEqual(
    seen.map((e) => [e.workerKey, e.binding]),
    [
      [alice.workerKey, first],
      [alice.workerKey, second],
    ],
  )
})

test('watch rides out a node that stops answering, and reports what came meanwhile', async (t) => {
  const records: Parameters<typeof captureLogger>[0] = []
  const { anvil, backend } = await onChain(t, captureLogger(records))
  const alice = await workerKeyFromSuri('//Alice')
  const seen: BindingEvent[] = []
  const controller = new AbortController()
  t.after(() => {
    controller.abort()
  })
  const watching = backend.watch((e) => seen.push(e), { signal: controller.signal })
  await sleep(3 * POLL)
  await anvil.pause()
  await sleep(RPC_TIMEOUT + 3 * POLL) // at least one poll times out
  anvil.resume()
  const binding = signBinding(alice, [endpoint()], Date.now() - 1_000)
  await backend.publish(binding)
  await until(() => seen.length === 1, 5_000)
  controller.abort()
  await watching
  assert.deepEqual(seen[0]?.binding, binding)
  const warned = records.filter((r) => r.level === 'warn' && String(r.msg).includes('polling'))
  assert.equal(warned.length, 1, 'an outage is logged once')
})

test('forged and replayed submissions are logged but never believed; a forged newer one blocks nothing', async (t) => {
  const { backend } = await onChain(t)
  const alice = await workerKeyFromSuri('//Alice')
  const now = Date.now()
  const old = signBinding(alice, [endpoint()], now - 60_000)
  const current = signBinding(alice, [endpoint()], now - 30_000)
  await backend.publish(old)
  await backend.publish(current)

  // Anyone may relay: the contract cannot check sr25519, so both of these are logged as events.
  const forged = forge(signBinding(alice, [endpoint()], now - 1_000))
  await backend.publish(forged)
  await backend.publish(old) // a replay, within the pallet's 4 h window
  // The backend's index verifies what it reads and hands on only the newest valid binding (key-index.ts).
  const held = await backend.candidates(alice.workerKey)
  assert.deepEqual(held, [current])
  assert.deepEqual(newestValid(held).get(alice.workerKey)?.binding, current)

  // The forged event claims a newer signing time than the next valid binding: that must not matter.
  const next = signBinding(alice, [endpoint()], now - 10_000)
  await backend.publish(next)
  const candidates = await backend.candidates(alice.workerKey)
  assert.deepEqual(newestValid(candidates).get(alice.workerKey)?.binding, next)
  const registry = createRegistry({ backend, cacheTtlMs: 0 }, { logger })
  assert.deepEqual((await registry.resolve(alice.workerKey)).binding, next)
})

test('the contract reverts stale, future, mismatched and misshapen submissions: ERR_EVM_TX, no event, no gas', async (t) => {
  const { anvil, deployed, backend } = await onChain(t)
  const [alice, bob] = await Promise.all([workerKeyFromSuri('//Alice'), workerKeyFromSuri('//Bob')])
  const rpc = createEvmRpc({ rpcUrl: anvil.rpcUrl, timeout: RPC_TIMEOUT, pollInterval: POLL })
  const relayers = [1, 2].map((i) => createRelayer(anvil.privateKeys[i], rpc))
  const [backendRelayer, relayer] = relayers
  assert.ok(backendRelayer !== undefined && relayer !== undefined)
  const target = { rpc, relayer, address: deployed.address, txTimeout: 5_000 }
  const nonces = () =>
    Promise.all([backendRelayer, relayer].map((r) => rpc.client.getTransactionCount({ address: r.address })))
  const noncesBefore = await nonces()
  const valid = signBinding(alice, [endpoint()], Date.now() - 1_000)
  const [key, payload, signature] = submitArgs(valid)

  await assert.rejects(
    backend.publish(signBinding(alice, [endpoint()], Date.now() - 4 * HOUR - 60_000)),
    reverted('SigningTimeStale'),
  )
  await assert.rejects(
    backend.publish(signBinding(alice, [endpoint()], Date.now() + HOUR)),
    reverted('SigningTimeInFuture'),
  )
  await assert.rejects(
    submitRaw(target, [bob.workerKey as `0x${string}`, payload, signature]),
    reverted('KeyMismatch'),
  )
  await assert.rejects(submitRaw(target, [key, payload, '0x1234']), reverted('SignatureLength'))
  const v2: `0x${string}` = `0x${payload.slice(2, 2 + 64)}01${payload.slice(2 + 66)}` // version byte 0x01
  await assert.rejects(submitRaw(target, [key, v2, signature]), reverted('UnknownPayloadVersion'))
  const huge = signBinding(
    alice,
    Array.from({ length: 16 }, () => `https://${'x'.repeat(200)}.example`),
    Date.now(),
  )
  await assert.rejects(backend.publish(huge), reverted('PayloadLength'))

  assert.deepEqual(await backend.all(), [], 'no event was logged')
  assert.deepEqual(
    await nonces(),
    noncesBefore,
    'no transaction was sent: refusals cost the relayers nothing',
  )
  await submitRaw(target, [key, payload, signature])
  assert.deepEqual(await backend.all(), [valid], 'the same relayer and payload pass with the right key')
})

test('publish without a relayer key is ERR_EVM_NO_RELAYER; reading needs none; the key is never logged', async (t) => {
  const records: Parameters<typeof captureLogger>[0] = []
  const log = captureLogger(records)
  const { anvil, backend, open } = await onChain(t, log)
  const alice = await workerKeyFromSuri('//Alice')
  const binding = signBinding(alice, [endpoint()], Date.now() - 1_000)
  await backend.publish(binding)
  const failures: unknown[] = []
  await backend
    .publish(signBinding(alice, [endpoint()], Date.now() + HOUR))
    .catch((e: unknown) => failures.push(e))

  const reader = open({ relayerKey: undefined })
  await assert.rejects(reader.publish(binding), code('ERR_EVM_NO_RELAYER'))
  assert.deepEqual(await reader.candidates(alice.workerKey), [binding])
  assert.throws(() => open({ relayerKey: '0x1234' }), code('ERR_INVALID_OPTION'))
  const zero = `0x${'00'.repeat(32)}`
  assert.throws(
    () => open({ relayerKey: zero }),
    (e: unknown) => code('ERR_INVALID_OPTION')(e) && !String(e).includes(zero),
  )

  const everything = serializeLogs(records) + failures.map(errorText).join('')
  assert.ok(records.length > 0)
  for (const key of anvil.privateKeys.slice(0, 2)) {
    assert.ok(
      !everything.toLowerCase().includes(key.slice(2).toLowerCase()),
      'a relayer key appears in logs or errors',
    )
  }
})

test('a stopped node: publish and candidates fail fast with ERR_EVM_RPC naming the URL; a hung one with ERR_EVM_TIMEOUT', async (t) => {
  const { anvil, backend } = await onChain(t)
  const alice = await workerKeyFromSuri('//Alice')
  const binding = signBinding(alice, [endpoint()], Date.now() - 1_000)
  await backend.publish(binding) // the contract check is done and remembered

  await anvil.pause()
  let t0 = performance.now()
  await assert.rejects(backend.candidates(alice.workerKey), code('ERR_EVM_TIMEOUT', anvil.rpcUrl))
  const hungMs = performance.now() - t0
  assert.ok(hungMs < RPC_TIMEOUT + 1_000, `a hung node took ${hungMs} ms`)
  const controller = new AbortController()
  const aborted = backend.candidates(alice.workerKey, { signal: controller.signal })
  const reason = new Error('caller gave up')
  controller.abort(reason)
  await assert.rejects(aborted, (e) => e === reason)
  anvil.resume()

  await anvil.stop()
  t0 = performance.now()
  await assert.rejects(backend.publish(binding), code('ERR_EVM_RPC', anvil.rpcUrl))
  await assert.rejects(backend.candidates(alice.workerKey), code('ERR_EVM_RPC', anvil.rpcUrl))
  await assert.rejects(backend.all(), code('ERR_EVM_RPC', anvil.rpcUrl))
  const deadMs = performance.now() - t0
  assert.ok(deadMs < 1_000, `a dead node took ${deadMs} ms`)
  t.diagnostic(
    `hung node: ERR_EVM_TIMEOUT after ${hungMs.toFixed(0)} ms; dead node: 3 calls failed in ${deadMs.toFixed(0)} ms`,
  )
})

function endpoint(): string {
  return i2pEndpoint(`${base32(randomBytes(32))}.b32.i2p`)
}

/** RFC 4648 base32, lower case, no padding: a b32 address of 32 random bytes (52 characters). */
function base32(bytes: Uint8Array): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567'
  let bits = 0
  let value = 0
  let out = ''
  for (const byte of bytes) {
    value = (value << 8) | byte
    bits += 8
    while (bits >= 5) {
      out += alphabet.charAt((value >>> (bits - 5)) & 31)
      bits -= 5
    }
  }
  if (bits > 0) out += alphabet.charAt((value << (5 - bits)) & 31)
  return out
}

/** An error and its whole cause chain as text: messages, stacks, own properties. */
function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err)
  const own = JSON.stringify(err, (_key, value: unknown) =>
    typeof value === 'bigint' ? String(value) : value,
  )
  return `${err.stack ?? err.message} ${own} ${errorText(err.cause)}`
}

function forge(binding: SignedBinding): SignedBinding {
  const signature = Uint8Array.from(binding.signature)
  signature[0] = (signature[0] ?? 0) ^ 0x01
  return { payload: binding.payload, signature }
}

function code(expected: ErrorCode, inMessage?: string) {
  return (err: unknown): boolean =>
    isPRouterError(err, expected) && (inMessage === undefined || err.message.includes(inMessage))
}

function reverted(errorName: string) {
  return (err: unknown): boolean => isPRouterError(err, 'ERR_EVM_TX') && err.message.includes(`${errorName}(`)
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

async function until(condition: () => boolean, timeout: number): Promise<void> {
  const deadline = Date.now() + timeout
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeout} ms`)
    await sleep(POLL)
  }
}

// ---- usage reports on chain, the chain id, secrets (issue 13)

const CLI = 'dist/cli/main.js'
const run = promisify(execFile)

/** Two workers' reports of one period that confirm each other: alice sent bob 4000 bytes, bob read them. */
function pairOfReports(
  alice: WorkerKeyPair,
  bob: WorkerKeyPair,
  start: number,
): [SignedUsageReport, SignedUsageReport] {
  const flow = (peer: string, bytesIn: number, bytesOut: number) => ({
    peer,
    bytesIn,
    bytesOut,
    requestsIn: 1,
    requestsOut: 1,
    errors: 0,
  })
  const a = signedReport(alice, start).report
  const b = signedReport(bob, start).report
  return [
    signUsageReport({ ...a, peers: [flow(bob.workerKey, 1000, 4000), ...a.peers] }, alice),
    signUsageReport({ ...b, peers: [flow(alice.workerKey, 4000, 1000), ...b.peers] }, bob),
  ]
}

test('junk reports are logged but never listed as verified; the contract reverts stale and misshapen ones', async (t) => {
  const { backend, anvil, deployed } = await onChain(t)
  const registry = createRegistry({ backend }, { logger })
  const alice = await workerKeyFromSuri('//Alice')
  const bob = await workerKeyFromSuri('//Bob')
  const start = pastPeriod(Date.now(), 2)
  const valid = signedReport(alice, start)
  const storage = reportStorage(backend)
  const forged = { ...valid, signature: `0x${'11'.repeat(64)}` }
  await storage.publish(forged) // the chain cannot check sr25519: logged, dropped by readers
  const rpc = createEvmRpc({ rpcUrl: anvil.rpcUrl, timeout: RPC_TIMEOUT, pollInterval: POLL })
  const relayer = createRelayer(anvil.privateKeys[2], rpc)
  assert.ok(relayer !== undefined)
  const target = { rpc, relayer, address: deployed.address, txTimeout: 5_000 }
  // alice's valid report logged under bob's key: the topics and the JSON disagree, readers drop it
  const [, startArg, endArg, json, signature] = reportArgs(valid)
  const sent = await rpc.call('submitReport', () =>
    relayer.wallet.writeContract({
      address: deployed.address,
      abi: workerRegistryAbi,
      functionName: 'submitReport',
      args: [bob.workerKey as `0x${string}`, startArg, endArg, json, signature],
      account: relayer.account,
      chain: null,
    }),
  )
  const mismatched = await rpc.client.waitForTransactionReceipt({ hash: sent })
  const junk = await submitReport(target, forged)
  t.diagnostic(
    `a junk report of ${(json.length - 2) / 2} bytes costs its sender ${junk.gasUsed} gas ` +
      `(mismatched topics: ${mismatched.gasUsed})`,
  )
  assert.deepEqual(await registry.verifiedReports({}), [])
  await storage.publish(valid)
  assert.deepEqual(await registry.verifiedReports({}), [valid], 'the valid one is not hidden by the junk')
  assert.deepEqual(await registry.verifiedReports({ workerKey: bob.workerKey }), [])
  const stale = signedReport(alice, Date.now() - 8 * 24 * HOUR)
  await assert.rejects(
    storage.publish(stale),
    (err) => isPRouterError(err, 'ERR_EVM_TX') && /PeriodStale/.test(err.message),
  )
  const future = signedReport(alice, Date.now() + HOUR)
  await assert.rejects(
    storage.publish(future),
    (err) => isPRouterError(err, 'ERR_EVM_TX') && /PeriodInFuture/.test(err.message),
  )
})

test('`prouter report verify` and `report value --registry evm` read the reports on chain (built CLI)', async (t) => {
  const { backend, deployed, anvil } = await onChain(t)
  const alice = await workerKeyFromSuri('//Alice')
  const bob = await workerKeyFromSuri('//Bob')
  const start = pastPeriod(Date.now(), 2)
  for (const r of pairOfReports(alice, bob, start)) await reportStorage(backend).publish(r)
  const evm = [
    '--registry',
    'evm',
    '--evm-rpc',
    anvil.rpcUrl,
    '--evm-contract',
    deployed.address,
    '--evm-from-block',
    String(deployed.blockNumber),
    '--evm-chain-id',
    '31337',
  ]
  const window = [
    '--from',
    new Date(start).toISOString(),
    '--to',
    new Date(start + REPORT_PERIOD).toISOString(),
  ]
  const t0 = performance.now()
  const verified = await run(process.execPath, [CLI, 'report', 'verify', ...window, '--json', ...evm])
  const ms = performance.now() - t0
  const view = JSON.parse(verified.stdout) as {
    summary: { verified: number; flagged: number; pairsChecked: number }
  }
  assert.deepEqual(
    [view.summary.verified, view.summary.flagged, view.summary.pairsChecked],
    [2, 0, 2],
    'both verified, both directions agree',
  )
  const period = `${new Date(start).toISOString()}/${new Date(start + REPORT_PERIOD).toISOString()}`
  const valued = await run(process.execPath, [
    CLI,
    'report',
    'value',
    '--period',
    period,
    '--format',
    'json',
    ...evm,
  ])
  const rows = (
    JSON.parse(valued.stdout) as { workers: Array<{ worker: string; peerBytesConfirmed: number }> }
  ).workers
  assert.deepEqual(
    rows.map((r) => r.peerBytesConfirmed),
    [5000, 5000],
    'each worker: 4000 + 1000 bytes confirmed by the other',
  )
  t.diagnostic(`report verify --registry evm: ${ms.toFixed(0)} ms`)
  // alice logs an overlapping report (start + 1 ms): the chain cannot refuse it, readers flag and drop it
  await reportStorage(backend).publish(signedReport(alice, start + 1))
  await assert.rejects(
    run(process.execPath, [CLI, 'report', 'verify', ...window, ...evm]),
    (err: { stderr: string }) => /flagged 1/.test(err.stderr),
  )
  const after = await run(process.execPath, [
    CLI,
    'report',
    'value',
    '--period',
    period,
    '--format',
    'json',
    ...evm,
  ])
  assert.match(after.stderr, new RegExp(`excluded ${alice.workerKey}: 2 different reports`))
  const wrongChain = run(process.execPath, [CLI, 'report', 'verify', ...window, ...evm.slice(0, -1), '1'])
  await assert.rejects(wrongChain, (err: { stderr: string }) => /ERR_EVM_CHAIN_ID/.test(err.stderr))
})

test('a pinned chain id that the node does not serve is ERR_EVM_CHAIN_ID before anything is read', async (t) => {
  const { open, backend } = await onChain(t)
  const alice = await workerKeyFromSuri('//Alice')
  await backend.publish(signBinding(alice, [endpoint()], Date.now() - 1_000))
  await assert.rejects(open({ chainId: 1 }).candidates(alice.workerKey), code('ERR_EVM_CHAIN_ID'))
  await assert.rejects(
    open({ chainId: 1 }).publish(signBinding(alice, [endpoint()], Date.now())),
    code('ERR_EVM_CHAIN_ID'),
  )
  assert.equal((await open({ chainId: 31337 }).candidates(alice.workerKey)).length, 1)
  assert.throws(() => open({ chainId: 0 }), code('ERR_INVALID_OPTION'))
})

test('bindings for the chain are signed 30 s in the past; a failing refresh logs no RPC URL secret', async (t) => {
  const { backend } = await onChain(t)
  assert.equal(backend.signingLagMs, CHAIN_SIGNING_LAG)
  const before = Date.now()
  const signedAt = signingTimeFor(backend)
  const after = Date.now()
  assert.ok(
    signedAt >= before - CHAIN_SIGNING_LAG && signedAt <= after - CHAIN_SIGNING_LAG,
    `signed at now - ${Date.now() - signedAt} ms`,
  )
  const records: Parameters<typeof captureLogger>[0] = []
  const log = captureLogger(records)
  const secretUrl = 'http://user:hunter2@127.0.0.1:1/v3/0123456789abcdefKEYKEYKEY?apikey=SECRETSECRET'
  const dead = createEvmBackend(
    {
      rpcUrl: secretUrl,
      contract: `0x${'11'.repeat(20)}`,
      fromBlock: 0n,
      relayerKey: `0x${'22'.repeat(32)}`,
      rpcTimeout: 500,
    },
    { logger: log },
  )
  t.after(() => dead.close())
  const registry = createRegistry({ backend: dead }, { logger: log })
  const publisher = createPublisher(
    { worker: await workerKeyFromSuri('//Alice'), b32: endpoint().slice(6), refreshInterval: 20 },
    { logger: log, registry },
  )
  publisher.start()
  t.after(() => publisher.stop())
  const deadline = Date.now() + 10_000
  while (!records.some((r) => r.level === 'warn') && Date.now() < deadline) await sleep(20)
  await publisher.stop()
  const warn = records.find((r) => r.level === 'warn')
  assert.ok(warn !== undefined, 'the refresh failed and said so')
  assert.match(JSON.stringify(warn), /ERR_EVM_RPC/)
  const logged = serializeLogs(records)
  for (const secret of ['hunter2', 'SECRETSECRET', '0123456789abcdefKEYKEYKEY']) {
    assert.ok(!logged.includes(secret), `${secret} is not logged`)
  }
  assert.ok(!String(publisher.status.lastError).includes('SECRETSECRET'))
})

test('`registry deploy` refuses a relayer key file that others can read: ERR_KEY_FILE_MODE', async (t) => {
  const anvil = await startAnvil(t)
  const dir = await mkdtemp(join(tmpdir(), 'prouter-relayer-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const file = join(dir, 'relayer.key')
  await writeFile(file, `${anvil.privateKeys[0] ?? ''}\n`, { mode: 0o644 })
  await chmod(file, 0o644)
  await assert.rejects(
    run(process.execPath, [CLI, 'registry', 'deploy', '--evm-rpc', anvil.rpcUrl, '--relayer-key-file', file]),
    (err: { stderr: string }) =>
      /ERR_KEY_FILE_MODE/.test(err.stderr) && !err.stderr.includes(anvil.privateKeys[0] ?? 'x'),
  )
  await chmod(file, 0o600)
  const deployed = await run(process.execPath, [
    CLI,
    'registry',
    'deploy',
    '--evm-rpc',
    anvil.rpcUrl,
    '--relayer-key-file',
    file,
    '--json',
  ])
  assert.match(deployed.stdout, /"address":"0x[0-9a-fA-F]{40}"/)
})
