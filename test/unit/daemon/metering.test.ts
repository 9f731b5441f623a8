/**
 * The daemon's metering closes each period on the counters as they were at its end, even while a slow sample
 * (here: a router reading that takes longer than the step) holds the sampler up across the end: bytes counted
 * just before the end are in the period's report, bytes counted just after are in the next one.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { createMetering } from '../../../src/daemon/metering.js'
import type { RouterLink } from '../../../src/daemon/router-link.js'
import { workerKeyFromSuri } from '../../../src/identity/worker-key.js'
import type { Registry } from '../../../src/registry/index.js'
import { reportFiles } from '../../../src/metering/report-files.js'
import { verifyUsageReport } from '../../../src/registry/usage-reports.js'
import { silentLogger } from '../../../src/logger.js'

const PERIOD = 2000
const PEER = `0x${'b'.repeat(64)}`

test('a period closes on its counters at its end, though the sample running then is slow', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'prouter-metering-'))
  const worker = await workerKeyFromSuri('//Alice')
  let readings = 0
  const router = {
    // every reading takes 1.5 steps: a sample is always running when a period ends
    traffic: async () => {
      await sleep(750)
      readings++
      const at = Date.now()
      return {
        at,
        uptimeMs: at,
        sentBytes: 0,
        receivedBytes: 0,
        transitBytes: 0,
        participatingTunnels: 0,
        inboundBps: 0,
        outboundBps: 0,
      }
    },
  } as unknown as RouterLink
  const metering = createMetering(
    {
      config: {
        period: PERIOD,
        sampleInterval: 500,
        checkpointInterval: 1000,
        maxPeers: 10,
        publishReports: false,
      },
      dataDir,
      worker,
    },
    {
      logger: silentLogger(),
      registry: {} as Registry,
      router,
      sessionUp: () => true,
      streams: () => ({ in: 0, out: 0 }),
    },
  )
  t.after(async () => {
    await metering.stop() // it saves the open period: before the folder goes, or the save makes it again
    await rm(dataDir, { recursive: true, force: true })
  })
  const end = (Math.floor(Date.now() / PERIOD) + 2) * PERIOD // a whole period after the open one
  await metering.open()
  await sleep(end - 150 - Date.now())
  metering.peers.addBytes(PEER, 0, 100) // just before the end
  await sleep(end + 150 - Date.now())
  metering.peers.addBytes(PEER, 0, 1000) // just after
  await sleep(end + PERIOD + 1600 - Date.now()) // the next period closed too
  assert.ok(readings >= 4, 'the router was read, slowly')
  const files = reportFiles(dataDir, worker.workerKey)
  const reports = (await files.listReports({ from: end - PERIOD, to: end + PERIOD })).map(
    (r) => verifyUsageReport(r).report,
  )
  const of = (start: number): number | undefined =>
    reports.find((r) => r.start === start)?.peers.find((p) => p.peer === PEER)?.bytesOut
  assert.equal(of(end - PERIOD), 100, 'the bytes before the end are in the closing period')
  assert.equal(of(end), 1000, 'the bytes after it are in the next')
})
