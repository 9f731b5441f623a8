/**
 * One behavioural suite for every registry backend (as js-libp2p runs one compliance suite per transport).
 * Each backend file calls `registryCompliance(name, setup)`. What may differ between backends is only
 * *where* a bad binding is stopped: a backend that checks (local) refuses it on publish; one that cannot
 * (evm) stores it — either way the resolver must never return it. RouterInfos and usage reports are
 * optional capabilities (backend.ts): a backend that has one (`storesRouterInfos: true`, checked against
 * what it declares) behaves alike on every case; for one that has not, the caller gets
 * ERR_REGISTRY_UNSUPPORTED. Usage reports alike (`storesReports`).
 */
import { describe, test } from 'node:test'
import type { TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { generateDestinationKeys } from '../../src/i2p/index.js'
import type { SignedBinding, WorkerKeyPair } from '../../src/identity/index.js'
import { i2pEndpoint, signBinding, workerKeyFromSuri } from '../../src/identity/index.js'
import type { RegistryBackend } from '../../src/registry/backend.js'
import { reportStorage, routerInfoStorage } from '../../src/registry/backend.js'
import type { SignedUsageReport, UsageReport } from '../../src/metering/report.js'
import { signUsageReport } from '../../src/registry/usage-reports.js'
import { createRegistry } from '../../src/registry/resolver.js'
import type { Registry } from '../../src/registry/resolver.js'
import { isPRouterError } from '../../src/errors.js'
import { silentLogger } from '../../src/logger.js'
import { buildRouterInfo, testRouterKey } from './router-info.js'

export interface ComplianceTarget {
  backend: RegistryBackend
  /** Whether the backend keeps RouterInfos (else both methods are ERR_REGISTRY_UNSUPPORTED). */
  storesRouterInfos: boolean
  /** Whether the backend keeps usage reports (else both methods are ERR_REGISTRY_UNSUPPORTED). */
  storesReports: boolean
}

/** A usage report's period in these tests (the daemon's default length). */
export const REPORT_PERIOD = 10 * 60_000

/** A signed usage report of `pair` for [start, start + length): one anonymous peer of `bytesIn` bytes. */
export function signedReport(
  pair: WorkerKeyPair,
  start: number,
  bytesIn = 100,
  length = REPORT_PERIOD,
): SignedUsageReport {
  const end = start + length
  const report: UsageReport = {
    version: 1,
    workerKey: pair.workerKey,
    start,
    end,
    transit: { bytes: 5000, tunnelSeconds: 1200, tunnelsMax: 2 },
    router: null,
    peers: [{ peer: 'anonymous', bytesIn, bytesOut: 200, requestsIn: 1, requestsOut: 0, errors: 0 }],
    restarts: { daemon: 0, router: 0 },
    gaps: [{ start, end: start + 1000, cause: 'daemon-down' }],
    createdAt: end,
  }
  return signUsageReport(report, pair)
}

/** The start of the period that ended `periodsAgo` periods before the one holding `now`. */
export function pastPeriod(now: number, periodsAgo = 1): number {
  return now - (now % REPORT_PERIOD) - periodsAgo * REPORT_PERIOD
}

const logger = silentLogger()

export function registryCompliance(name: string, setup: (t: TestContext) => Promise<ComplianceTarget>): void {
  describe(`registry compliance: ${name}`, () => {
    const open = async (t: TestContext): Promise<Registry> => (await openWith(t)).registry
    const openWith = async (t: TestContext): Promise<ComplianceTarget & { registry: Registry }> => {
      const target = await setup(t)
      const registry = createRegistry({ backend: target.backend, cacheTtlMs: 60_000 }, { logger })
      t.after(() => registry.close())
      return { ...target, registry }
    }
    /** The registry, or undefined (after checking the refusal) when the backend keeps no RouterInfos. */
    const withRouterInfos = async (t: TestContext): Promise<Registry | undefined> => {
      const { registry, storesRouterInfos } = await openWith(t)
      assert.equal(registry.backend.routerInfos !== undefined, storesRouterInfos, 'the capability declared')
      if (storesRouterInfos) return registry
      const bytes = buildRouterInfo({ key: testRouterKey(), published: Date.now() - 1000 })
      await assert.rejects(registry.publishRouterInfo(bytes), code('ERR_REGISTRY_UNSUPPORTED'))
      await assert.rejects(registry.routerInfos(), code('ERR_REGISTRY_UNSUPPORTED'))
      t.diagnostic('the backend keeps no RouterInfos: ERR_REGISTRY_UNSUPPORTED')
      return undefined
    }
    /** The registry, or undefined (after checking the refusal) when the backend keeps no usage reports. */
    const withReports = async (t: TestContext): Promise<Registry | undefined> => {
      const { registry, storesReports } = await openWith(t)
      assert.equal(registry.backend.reports !== undefined, storesReports, 'the capability declared')
      if (storesReports) return registry
      const report = signedReport(await workerKeyFromSuri('//Alice'), pastPeriod(Date.now()))
      await assert.rejects(registry.publishReport(report), code('ERR_REGISTRY_UNSUPPORTED'))
      assert.throws(() => reportStorage(registry.backend), code('ERR_REGISTRY_UNSUPPORTED'))
      await assert.rejects(registry.verifiedReports({}), code('ERR_REGISTRY_UNSUPPORTED'))
      t.diagnostic('the backend keeps no usage reports: ERR_REGISTRY_UNSUPPORTED')
      return undefined
    }

    test('a published binding resolves, verified, with its endpoints and signing time', async (t) => {
      const registry = await open(t)
      const { pair, endpoint } = await worker('//Alice')
      const signingTime = Date.now() - 1000
      await registry.publish(signBinding(pair, [endpoint], signingTime))
      const got = await registry.resolve(pair.workerKey)
      assert.deepEqual(
        [got.workerKey, got.endpoints, got.signingTime],
        [pair.workerKey, [endpoint], signingTime],
      )
    })

    test('an unknown key is ERR_REGISTRY_NOT_FOUND; a malformed key ERR_INVALID_WORKER_KEY', async (t) => {
      const registry = await open(t)
      const { pair } = await worker('//Nobody')
      await assert.rejects(registry.resolve(pair.workerKey), code('ERR_REGISTRY_NOT_FOUND'))
      await assert.rejects(registry.resolve('0x1234'), code('ERR_INVALID_WORKER_KEY'))
    })

    test('a newer binding supersedes; replaying an older one cannot roll it back', async (t) => {
      const registry = await open(t)
      const { pair } = await worker('//Bob')
      const [a, b] = [await endpointOf(), await endpointOf()]
      const old = signBinding(pair, [a], Date.now() - 5000)
      const fresh = signBinding(pair, [b], Date.now() - 1000)
      await registry.publish(old)
      await registry.publish(fresh)
      await registry.backend.publish(old).catch(expectRefusal('ERR_BINDING_REPLAYED'))
      const fresher = createRegistry({ backend: registry.backend, cacheTtlMs: 0 }, { logger })
      assert.deepEqual((await fresher.resolve(pair.workerKey)).endpoints, [b])
    })

    test('a forged binding is never believed and does not hide the valid one', async (t) => {
      const registry = await open(t)
      const { pair, endpoint } = await worker('//Charlie')
      await registry.publish(signBinding(pair, [endpoint], Date.now() - 2000))
      const forged = forge(signBinding(pair, [await endpointOf()], Date.now() - 1000))
      await assert.rejects(
        registry.publish(forged),
        code('ERR_BINDING_SIGNATURE'),
        'the resolver never relays it',
      )
      await registry.backend.publish(forged).catch(expectRefusal('ERR_BINDING_SIGNATURE'))
      const fresher = createRegistry({ backend: registry.backend, cacheTtlMs: 0 }, { logger })
      assert.deepEqual((await fresher.resolve(pair.workerKey)).endpoints, [endpoint])
    })

    test('reverse finds the worker behind an I2P address; list holds every worker', async (t) => {
      const registry = await open(t)
      const alice = await worker('//Alice')
      const dave = await worker('//Dave')
      await registry.publish(signBinding(alice.pair, [alice.endpoint], Date.now() - 1000))
      await registry.publish(signBinding(dave.pair, [dave.endpoint], Date.now() - 1000))
      const fresher = createRegistry({ backend: registry.backend, cacheTtlMs: 0 }, { logger })
      assert.equal(await fresher.reverse(dave.endpoint), dave.pair.workerKey)
      assert.equal(await fresher.reverse(dave.endpoint.replace('i2p://', '')), dave.pair.workerKey)
      const keys = (await fresher.list()).map((b) => b.workerKey)
      assert.ok(keys.includes(alice.pair.workerKey) && keys.includes(dave.pair.workerKey))
      await assert.rejects(fresher.reverse(await endpointOf()), code('ERR_REGISTRY_NOT_FOUND'))
    })

    test('after a worker moves to a new address, its old address names nobody', async (t) => {
      const registry = await open(t)
      const { pair, endpoint: before } = await worker('//Ferdie')
      const after = await endpointOf()
      await registry.publish(signBinding(pair, [before], Date.now() - 2000))
      const reader = createRegistry({ backend: registry.backend, cacheTtlMs: 0 }, { logger })
      assert.equal(await reader.reverse(before), pair.workerKey, 'the reader has seen the old address')
      await registry.publish(signBinding(pair, [after], Date.now() - 1000))
      await assert.rejects(reader.reverse(before), code('ERR_REGISTRY_NOT_FOUND'))
      assert.equal(await reader.reverse(after), pair.workerKey)
    })

    test('watch reports a new valid binding', async (t) => {
      const registry = await open(t)
      const { pair, endpoint } = await worker('//Eve')
      const controller = new AbortController()
      t.after(() => {
        controller.abort()
      })
      const seen = new Promise<string>((resolve) => {
        registry
          .watch(
            (b) => {
              if (b.workerKey === pair.workerKey) resolve(b.endpoints[0] ?? '')
            },
            { signal: controller.signal },
          )
          .catch(() => undefined) // ends when the backend goes away at teardown
      })
      await new Promise((resolve) => setTimeout(resolve, 300)) // let the watch subscribe
      await registry.publish(signBinding(pair, [endpoint], Date.now() - 1000))
      assert.equal(await withTimeout(seen, 10_000), endpoint)
    })

    test('a published RouterInfo comes back byte for byte and verifies', async (t) => {
      const registry = await withRouterInfos(t)
      if (registry === undefined) return
      const published = Date.now() - 1000
      const bytes = buildRouterInfo({ key: testRouterKey(), published })
      const receipt = await registry.publishRouterInfo(bytes)
      assert.equal(receipt.published, published)
      assert.equal(receipt.id.length, 44)
      assert.deepEqual(await registry.routerInfos(), [new Uint8Array(bytes)])
      const [info] = await registry.verifiedRouterInfos()
      assert.deepEqual([info?.id, info?.published, info?.floodfill], [receipt.id, published, true])
      assert.deepEqual(await registry.publishRouterInfo(bytes), receipt, 'the same bytes again: no change')
      assert.equal((await registry.routerInfos()).length, 1)
    })

    test('a newer RouterInfo replaces a router’s; an older one cannot roll it back', async (t) => {
      const registry = await withRouterInfos(t)
      if (registry === undefined) return
      const key = testRouterKey()
      const older = buildRouterInfo({ key, published: Date.now() - 60_000 })
      const newer = buildRouterInfo({ key, published: Date.now() - 1000 })
      await registry.publishRouterInfo(older)
      await registry.publishRouterInfo(newer)
      await assert.rejects(registry.publishRouterInfo(older), code('ERR_ROUTER_INFO_REPLAYED'))
      const infos = await registry.verifiedRouterInfos()
      assert.deepEqual(
        infos.map((i) => Buffer.from(i.bytes)),
        [newer],
      )
    })

    test('a RouterInfo with a flipped byte is refused and never listed', async (t) => {
      const registry = await withRouterInfos(t)
      if (registry === undefined) return
      const forged = buildRouterInfo({ key: testRouterKey(), published: Date.now() - 1000 })
      forged[395] = (forged[395] ?? 0) ^ 1 // in the published time
      await assert.rejects(registry.publishRouterInfo(forged), code('ERR_ROUTER_INFO_SIGNATURE'))
      await assert.rejects(
        routerInfoStorage(registry.backend).publish(forged),
        code('ERR_ROUTER_INFO_SIGNATURE'),
      )
      assert.deepEqual(await registry.verifiedRouterInfos(), [])
    })

    test('a published usage report comes back verified; the same report again is the same receipt', async (t) => {
      const registry = await withReports(t)
      if (registry === undefined) return
      const [alice, bob] = [await workerKeyFromSuri('//Alice'), await workerKeyFromSuri('//Bob')]
      const start = pastPeriod(Date.now(), 2)
      const [a, b, later] = [
        signedReport(alice, start),
        signedReport(bob, start),
        signedReport(alice, start + REPORT_PERIOD),
      ]
      const receipt = await registry.publishReport(a)
      assert.deepEqual(receipt, { workerKey: alice.workerKey, start })
      await registry.publishReport(later)
      await registry.publishReport(b)
      assert.deepEqual(
        await registry.publishReport(signedReport(alice, start)),
        receipt,
        'signed again: no change',
      )
      const both = alice.workerKey < bob.workerKey ? [a, b] : [b, a]
      assert.deepEqual(await registry.verifiedReports({}), [...both, later], 'by start, then worker')
      assert.deepEqual(await registry.verifiedReports({ workerKey: alice.workerKey }), [a, later])
      assert.deepEqual(await registry.verifiedReports({ from: start + REPORT_PERIOD }), [later])
      assert.deepEqual(await registry.verifiedReports({ from: start, to: start + REPORT_PERIOD }), both)
      // a different report for a held period: a backend that checks refuses it; one that cannot (evm) logs
      // it, and readers see both versions (an equivocation the cross-check flags)
      const other = signedReport(alice, start, 101)
      const stored = await registry
        .publishReport(other)
        .then(() => true, expectRefusal('ERR_REPORT_CONFLICT'))
      const mine = await registry.verifiedReports({ workerKey: alice.workerKey, to: start + REPORT_PERIOD })
      assert.deepEqual(mine, stored === true ? [a, other] : [a])
      t.diagnostic(stored === true ? 'a conflicting report is logged: readers flag it' : 'refused on publish')
    })

    test('a tampered usage report is refused and never listed', async (t) => {
      const registry = await withReports(t)
      if (registry === undefined) return
      const signed = signedReport(await workerKeyFromSuri('//Alice'), pastPeriod(Date.now()))
      const tampered = structuredClone(signed)
      tampered.report.peers = tampered.report.peers.map((p) => ({ ...p, bytesIn: p.bytesIn + 1 }))
      await assert.rejects(registry.publishReport(tampered), code('ERR_REPORT_SIGNATURE'))
      await reportStorage(registry.backend).publish(tampered).catch(expectRefusal('ERR_REPORT_SIGNATURE'))
      assert.deepEqual(await registry.verifiedReports({}), [])
    })

    test('a repeated resolve is answered from the cache', async (t) => {
      const registry = await open(t)
      const { pair, endpoint } = await worker('//Ferdie')
      await registry.publish(signBinding(pair, [endpoint], Date.now() - 1000))
      await registry.resolve(pair.workerKey)
      const t0 = performance.now()
      for (let i = 0; i < 1000; i++) await registry.resolve(pair.workerKey)
      const perLookup = (performance.now() - t0) / 1000
      t.diagnostic(`cached resolve: ${(perLookup * 1000).toFixed(2)} µs`)
      assert.ok(perLookup < 0.1, `cached resolve took ${perLookup} ms`)
    })
  })
}

async function worker(suri: string): Promise<{ pair: WorkerKeyPair; endpoint: string }> {
  return { pair: await workerKeyFromSuri(suri), endpoint: await endpointOf() }
}

async function endpointOf(): Promise<string> {
  return i2pEndpoint((await generateDestinationKeys()).b32)
}

function forge(binding: SignedBinding): SignedBinding {
  const signature = Uint8Array.from(binding.signature)
  signature[10] = (signature[10] ?? 0) ^ 0xff
  return { payload: binding.payload, signature }
}

function code(expected: string) {
  return (err: unknown) => isPRouterError(err) && err.code === expected
}

/** A backend that checks refuses with `expected`; one that cannot accepts: both are fine. */
function expectRefusal(expected: string) {
  return (err: unknown) => {
    assert.ok(isPRouterError(err), String(err))
    assert.equal(err.code, expected)
    return undefined
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return Promise.race([
    p,
    new Promise<never>((_, reject) =>
      setTimeout(() => {
        reject(new Error(`no answer in ${ms} ms`))
      }, ms).unref(),
    ),
  ])
}
