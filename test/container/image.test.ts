/**
 * The container image end to end (run by scripts/test-image.sh, which builds the image and passes its name
 * in PROUTER_IMAGE; isolated: scripts/isolated.sh). A 4-router testnet and alice's daemon run on the host; a
 * worker ("boxed", //Charlie's key) runs in the image with its own i2pd from the image, its keys and data in
 * a folder mounted as the image's volume, its config mounted read-only. The container shares the isolated
 * namespace's network (`--network host`): it sees the testnet's loopback routers and the registry, and its API
 * binds the namespace's loopback. Proven: both reach each other by worker key with the caller verified, the
 * health check, the image's user, a clean stop, and the same I2P address after a restart from the volume.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { chown, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createWorkerNet, type WorkerNet } from '../../src/testnet/workers.js'
import type { DaemonConfigInput } from '../../src/daemon/config.js'
import { freePort } from '../../src/router/free-port.js'
import { sleep } from '../../src/signals.js'
import { testBinary, testLogger } from '../helpers/i2pd.js'
import { apiOf, call, type Answer, type Api } from '../helpers/daemon-client.js'
import {
  imageUid,
  LIMITS,
  pickRuntime,
  podman,
  runAttached,
  type Attached,
  type Podman,
} from '../helpers/podman.js'

const IMAGE = process.env.PROUTER_IMAGE
const VOLUME = '/var/lib/prouter'
const CONFIG = '/etc/prouter/prouter.json'

/** The boxed worker's options, as the host prepared them, moved to the container's paths. */
function containerConfig(input: DaemonConfigInput): DaemonConfigInput {
  const router: Record<string, unknown> = { ...input.router, dataDir: `${VOLUME}/router` }
  delete router.i2pd // the host's i2pd: the image's own (Debian's, on PATH) runs instead
  return { ...input, dataDir: VOLUME, router, api: { host: '127.0.0.1' } }
}

async function chownTree(path: string, uid: number): Promise<void> {
  await chown(path, uid, uid)
  for (const entry of await readdir(path, { withFileTypes: true })) {
    const child = join(path, entry.name)
    if (entry.isDirectory()) await chownTree(child, uid)
    else await chown(child, uid, uid)
  }
}

describe('the PRouter image on a private network', { timeout: 20 * 60_000, skip: skipReason() }, () => {
  let net: WorkerNet
  let p: Podman
  let dir: string
  let dataDir: string
  let configFile: string
  let apiPort: number
  let uid: number
  let boxed: Attached
  const name = `prouter-test-${randomBytes(4).toString('hex')}`
  const image = IMAGE ?? ''

  const start = async (): Promise<Attached> => {
    const args = [
      '--rm',
      '--name',
      name,
      '--network',
      'host',
      ...LIMITS,
      '--health-interval',
      'disable', // no systemd timer: the check is run by hand below
      '-v',
      `${dataDir}:${VOLUME}`,
      '-v',
      `${configFile}:${CONFIG}:ro`,
      '-e',
      `PROUTER_CONFIG=${CONFIG}`,
      '-e',
      `PROUTER_API_PORT=${String(apiPort)}`,
      image,
      'run',
      '--json',
    ]
    return runAttached(p, args, 300_000)
  }
  const stop = async (a: Attached): Promise<{ code: number | null; ms: number }> => {
    const t0 = performance.now()
    const r = await podman(p, ['stop', '--time', '30', name], 60_000)
    assert.equal(r.code, 0, r.stderr)
    const [code] = await a.exited
    return { code, ms: performance.now() - t0 }
  }
  const boxedApi = async (): Promise<Api> => ({
    url: String(boxed.ready.api),
    token: (await readFile(join(dataDir, 'api.token'), 'utf8')).trim(),
  })
  const alice = (): Api => {
    const d = net.worker('alice').daemon
    assert.ok(d)
    return apiOf(d)
  }

  before(async () => {
    p = await pickRuntime(image)
    uid = await imageUid()
    dir = await mkdtemp(join(tmpdir(), 'prouter-image-'))
    net = await createWorkerNet(
      {
        dir,
        binary: await testBinary(),
        workers: [
          { name: 'alice', suri: '//Alice', router: 'managed' },
          { name: 'boxed', suri: '//Charlie', router: 'managed', start: false },
        ],
      },
      { logger: testLogger() },
    )
    dataDir = join(dir, 'workers', 'boxed')
    configFile = join(dir, 'boxed.json')
    await writeFile(configFile, JSON.stringify(containerConfig(net.worker('boxed').input)), { mode: 0o600 })
    await chown(configFile, uid, uid)
    await chownTree(dataDir, uid)
    apiPort = await freePort('127.0.0.1')
    boxed = await start()
  })
  after(async () => {
    await podman(p, ['rm', '--force', '--time', '5', name]).catch(() => undefined)
    const child = (boxed as Attached | undefined)?.child // unset when the start failed
    if (child !== undefined && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await (net as WorkerNet | undefined)?.destroy()
    await rm(dir, { recursive: true, force: true })
  })

  test('the daemon in the container is ready: its worker key, its API on loopback', () => {
    assert.equal(boxed.ready.workerKey, net.worker('boxed').workerKey)
    assert.equal(boxed.ready.api, `http://127.0.0.1:${String(apiPort)}`)
    assert.match(String(boxed.ready.b32), /^[a-z2-7]{52}\.b32\.i2p$/)
  })

  test('every process in the container, i2pd included, runs as the image user', async () => {
    const script =
      'for p in /proc/[0-9]*; do echo "$(stat -c %u $p) $(readlink $p/exe) $(tr "\\0" " " <$p/cmdline)"; done'
    const r = await podman(p, ['exec', name, 'sh', '-c', script])
    assert.equal(r.code, 0, r.stderr)
    const procs = r.stdout.trim().split('\n')
    assert.ok(
      procs.some((l) => /^\d+ \/usr\/bin\/i2pd i2pd --conf=\/var\/lib\/prouter\/router\//.test(l)),
      `Debian's i2pd runs: ${r.stdout}`,
    )
    assert.ok(
      procs.some((l) => l.includes('/usr/local/bin/prouter run')),
      r.stdout,
    )
    assert.deepEqual(
      procs.filter((l) => !l.startsWith(`${String(uid)} `)),
      [],
    )
  })

  test('alice, on the host, reaches the boxed worker by key; its service is told, verified, who called', async () => {
    const res = await call(alice(), 'GET', `/v1/workers/${String(boxed.ready.workerKey)}/hello`, {
      timeout: 120_000,
    })
    assert.equal(res.status, 200, res.body.toString())
    const seen = res.json()
    assert.equal(seen.worker, 'boxed')
    assert.equal(seen.caller, net.worker('alice').workerKey)
    assert.equal(seen.callerAddress, net.worker('alice').daemon?.b32)
  })

  test('the boxed worker reaches alice by key through its API; alice is told it was the boxed worker', async () => {
    const res = await call(await boxedApi(), 'GET', `/v1/workers/${net.worker('alice').workerKey}/hello`, {
      timeout: 120_000,
    })
    assert.equal(res.status, 200, res.body.toString())
    const seen = res.json()
    assert.equal(seen.worker, 'alice')
    assert.equal(seen.caller, net.worker('boxed').workerKey)
    assert.equal(seen.callerAddress, boxed.ready.b32)
  })

  test("the image's health check passes; the API refuses a request without the token", async () => {
    const r = await podman(p, ['healthcheck', 'run', name])
    assert.equal(r.code, 0, `${r.stdout}${r.stderr}`)
    const res = await call(await boxedApi(), 'GET', '/v1/status', { token: null })
    assert.equal(res.status, 401)
  })

  test("the health check fails while the container's i2pd is stopped, and passes again after", async (t) => {
    const find =
      'for p in /proc/[0-9]*; do [ "$(readlink $p/exe)" = /usr/bin/i2pd ] && echo ${p#/proc/}; done'
    const pid = (await podman(p, ['exec', name, 'sh', '-c', find])).stdout.trim()
    assert.match(pid, /^\d+$/, 'one i2pd in the container')
    const signal = async (sig: string): Promise<void> => {
      const r = await podman(p, ['exec', name, 'sh', '-c', `kill -${sig} ${pid}`]) // the shell's kill: no procps
      assert.equal(r.code, 0, r.stderr)
    }
    await signal('STOP')
    t.after(() => signal('CONT'))
    const t0 = performance.now()
    const red = await healthUntil(p, name, false, 15_000)
    await signal('CONT')
    const green = await healthUntil(p, name, true, 60_000)
    assert.ok(red, 'unhealthy within 15 s of SIGSTOP')
    assert.ok(green, 'healthy again within 60 s of SIGCONT')
    t.diagnostic(
      `unhealthy after ${String(Math.round(red - t0))} ms stopped, healthy ${String(Math.round(green - red))} ms later`,
    )
  })

  test('the volume holds the key files and the token, 0600, owned by the image user', async () => {
    for (const f of ['keys/worker.key', 'keys/i2p.key', 'api.token']) {
      const s = await stat(join(dataDir, f))
      assert.equal(s.mode & 0o777, 0o600, f)
      assert.equal(s.uid, uid, f)
    }
  })

  test('podman stop ends the daemon and its i2pd cleanly; a new container on the same volume has the same address', async (t) => {
    const first = boxed.ready
    const { code, ms } = await stop(boxed)
    assert.equal(code, 0, boxed.stderr.slice(-20).join('\n'))
    assert.ok(ms < 30_000, `stopped before podman's 30 s SIGKILL: ${String(ms)} ms`)
    t.diagnostic(`podman stop: exit ${String(code)} after ${String(Math.round(ms))} ms`)
    await sleep(500)
    boxed = await start()
    assert.equal(boxed.ready.b32, first.b32)
    assert.equal(boxed.ready.workerKey, first.workerKey)
    // alice's router still holds the old session's LeaseSet: a call may fail until the new one is found
    const t1 = performance.now()
    const answers: string[] = []
    let res: Answer | undefined
    while (res?.status !== 200 && performance.now() - t1 < 180_000) {
      res = await call(alice(), 'GET', `/v1/workers/${String(first.workerKey)}/hello`, { timeout: 120_000 })
      answers.push(`${String(res.status)} ${res.status === 200 ? '' : res.body.toString()}`)
    }
    assert.equal(res?.status, 200, answers.join('\n'))
    assert.equal(res.json().caller, net.worker('alice').workerKey)
    t.diagnostic(
      `after the restart: ${answers.join(', ')}; 200 after ${String(Math.round(performance.now() - t1))} ms`,
    )
  })
})

/** Runs the image's health check until it says `healthy` (true) or not; the time it did, or 0 at the bound. */
async function healthUntil(p: Podman, name: string, healthy: boolean, bound: number): Promise<number> {
  const end = performance.now() + bound
  while (performance.now() < end) {
    const r = await podman(p, ['healthcheck', 'run', name], 30_000)
    if ((r.code === 0) === healthy) return performance.now()
    await sleep(250)
  }
  return 0
}

function skipReason(): string | false {
  if (IMAGE === undefined) return 'PROUTER_IMAGE unset: scripts/test-image.sh builds the image and runs this'
  if (process.getuid?.() !== 0) return 'needs root (the volume is chowned to the image user)'
  return false
}
