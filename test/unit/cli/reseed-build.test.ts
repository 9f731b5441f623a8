/**
 * `prouter reseed build` run as a process (the CLI's source through tsx) against a local registry folder
 * filled with i2pd's RouterInfo fixtures; no router, no network.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdir, readFile, readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { readRouterInfo } from '../../../src/i2p/index.js'
import type { RouterInfo } from '../../../src/i2p/index.js'
import { silentLogger } from '../../../src/logger.js'
import { localStorePath } from '../../../src/registry/open.js'
import { openLocalStore } from '../../../src/registry/local/store.js'
import { readSu3 } from '../../../src/reseed/index.js'
import { buildRouterInfo, fixture, testRouterKey } from '../../helpers/router-info.js'
import { tempDir } from '../../helpers/i2pd.js'

const run = promisify(execFile)
const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const MAIN = join(ROOT, 'src/cli/main.ts')
const MINUTE = 60_000
const FLOODFILL = readRouterInfo(fixture('floodfill'))
const REACHABLE = readRouterInfo(fixture('reachable'))
/** The registry's clock while it is filled: the fixtures were published moments before. */
const FIXTURES_AT = Math.max(FLOODFILL.published, REACHABLE.published) + MINUTE

interface Result {
  code: number
  stdout: string
  stderr: string
}

/** The CLI from source, with no PROUTER_* variable of the caller's environment leaking in. */
async function prouter(args: string[], env: Record<string, string> = {}): Promise<Result> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PROUTER_')))
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', MAIN, ...args], {
      cwd: ROOT,
      env: { ...clean, ...env },
      timeout: 60_000,
    })
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code?: unknown; stdout?: string; stderr?: string }
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' }
  }
}

/** A registry folder holding `infos`, stored under a clock at FIXTURES_AT (the store's age rule). */
async function registryOf(root: string, infos: readonly Uint8Array[]): Promise<string> {
  const dir = join(root, 'registry')
  const store = openLocalStore(
    { path: localStorePath(dir), now: () => FIXTURES_AT },
    { logger: silentLogger() },
  )
  try {
    for (const bytes of infos) await store.routerInfos.publish(bytes)
  } finally {
    await store.close()
  }
  return dir
}

/** A reachable, non-floodfill router of network 77, newer than both fixtures. */
function newerReachable(): RouterInfo {
  const key = testRouterKey()
  return readRouterInfo(buildRouterInfo({ key, published: FIXTURES_AT, options: { caps: 'X', netId: '77' } }))
}

/** A floodfill of another network (78). */
function otherNetwork(): RouterInfo {
  const key = testRouterKey()
  return readRouterInfo(
    buildRouterInfo({ key, published: FIXTURES_AT, options: { caps: 'Xf', netId: '78' } }),
  )
}

/** The zip inside the SU3, read as i2pd reads it: local file headers one after another. */
function zipEntries(zip: Buffer): Array<{ name: string; data: Buffer }> {
  const out: Array<{ name: string; data: Buffer }> = []
  let p = 0
  while (zip.readUInt32LE(p) === 0x04034b50) {
    const size = zip.readUInt32LE(p + 18)
    const nameLength = zip.readUInt16LE(p + 26)
    const start = p + 30 + nameLength + zip.readUInt16LE(p + 28)
    out.push({
      name: zip.subarray(p + 30, p + 30 + nameLength).toString(),
      data: zip.subarray(start, start + size),
    })
    p = start + size
  }
  return out
}

interface BuildView {
  file: string
  bytes: number
  netId: number
  routers: number
  floodfills: number
  reachable: number
  verified: number
  signerId: string
  certificate: string
  installed?: string
  ids: string[]
}

test('reseed build: the usable RouterInfos of the network, floodfills first then newest, signed and verified', async (t) => {
  const root = await tempDir(t, 'prouter-reseed-build-')
  const newer = newerReachable()
  const foreign = otherNetwork()
  const registryDir = await registryOf(root, [FLOODFILL.bytes, REACHABLE.bytes, newer.bytes, foreign.bytes])
  const out = join(root, 'out', 'registry.su3')
  const keyDir = join(root, 'reseed')
  await mkdir(join(root, 'out'))
  const args = ['reseed', 'build', '--registry-dir', registryDir, '--key-dir', keyDir, '--out', out]
  const r = await prouter([...args, '--netid', '77', '--certs-dir', join(root, 'certs'), '--json'])
  assert.equal(r.code, 0, r.stderr)
  const view = JSON.parse(r.stdout) as BuildView
  const expected = [FLOODFILL, newer, REACHABLE]
  assert.deepEqual(
    view.ids,
    expected.map((ri) => ri.id),
    'floodfill, then the newer reachable, then the older',
  )
  assert.deepEqual(
    [view.file, view.netId, view.routers, view.floodfills, view.reachable, view.verified],
    [out, 77, 3, 1, 3, 4],
  )
  assert.equal(view.certificate, join(keyDir, 'reseed.crt.pem'))

  const bytes = await readFile(out)
  assert.equal(view.bytes, bytes.length)
  assert.equal((await stat(out)).mode & 0o777, 0o644)
  const certificate = await readFile(view.certificate, 'utf8')
  const su3 = readSu3(bytes, { trusted: new Map([[view.signerId, certificate]]) })
  assert.equal(su3.verified, true)
  assert.equal(su3.signerId, view.signerId)
  assert.deepEqual(
    zipEntries(su3.content).map((e) => [e.name, e.data.toString('hex')]),
    expected.map((ri) => [`routerInfo-${ri.id}.dat`, Buffer.from(ri.bytes).toString('hex')]),
  )
  assert.equal(await readFile(view.installed ?? '', 'utf8'), certificate, 'the same certificate, installed')
  assert.equal(view.installed, join(root, 'certs', 'reseed', `${view.signerId.replace('@', '_at_')}.crt`))
  assert.deepEqual(await readdir(join(root, 'out')), ['registry.su3'], 'no temporary file left')

  const again = await prouter([...args, '--max', '1'], { PROUTER_NETID: '77' })
  assert.equal(again.code, 0, again.stderr)
  assert.match(again.stdout, new RegExp(`^file +${out} \\(\\d+ bytes, read back and verified\\)$`, 'm'))
  assert.match(again.stdout, /^routers +1: 1 floodfill, 1 reachable \(network 77; 4 verified/m)
  assert.match(again.stdout, new RegExp(`^signer +${view.signerId}$`, 'm'), 'the same key, reused')
  assert.match(again.stdout, new RegExp(`^certificate +${view.certificate}$`, 'm'))
  assert.ok(again.stdout.includes(FLOODFILL.id) && !again.stdout.includes(REACHABLE.id))
  const one = readSu3(await readFile(out), { trusted: new Map([[view.signerId, certificate]]) })
  assert.deepEqual(
    zipEntries(one.content).map((e) => e.name),
    [`routerInfo-${FLOODFILL.id}.dat`],
  )
})

test('reseed build: no usable RouterInfo is ERR_RESEED_EMPTY, exit 1, no file and no key made', async (t) => {
  const root = await tempDir(t, 'prouter-reseed-build-')
  const keyDir = join(root, 'reseed')
  const out = join(root, 'out.su3')
  const empty = await registryOf(root, [])
  const base = ['reseed', 'build', '--key-dir', keyDir, '--out', out]
  const none = await prouter([...base, '--registry-dir', empty, '--netid', '77'])
  assert.equal(none.code, 1)
  assert.match(none.stderr, /^prouter: ERR_RESEED_EMPTY: .*network 77 \(0 verified/m)
  const wrongNet = await registryOf(join(root, 'b'), [otherNetwork().bytes])
  const other = await prouter([...base, '--registry-dir', wrongNet, '--netid', '77'])
  assert.equal(other.code, 1)
  assert.match(other.stderr, /ERR_RESEED_EMPTY: .*network 77 \(1 verified/)
  assert.deepEqual(
    (await readdir(root)).sort(),
    ['b', 'registry'],
    'neither the bundle nor a reseed key was written',
  )
})

test('reseed build: --netid is required and checked, --max too', async (t) => {
  const root = await tempDir(t, 'prouter-reseed-build-')
  const base = ['reseed', 'build', '--registry-dir', join(root, 'r'), '--out', join(root, 'o.su3')]
  const missing = await prouter(base)
  assert.equal(missing.code, 1)
  assert.match(missing.stderr, /required option '--netid <n>' not specified/)
  const zero = await prouter([...base, '--netid', '0'])
  assert.match(zero.stderr, /ERR_INVALID_OPTION: option --netid: must be a whole number 1\.\.255, got "0"/)
  const max = await prouter([...base, '--netid', '77', '--max', '1.5'])
  assert.match(max.stderr, /ERR_INVALID_OPTION: option --max: must be a whole number 1\.\.65535/)
})
