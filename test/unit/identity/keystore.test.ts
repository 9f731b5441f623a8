import assert from 'node:assert/strict'
import { chmod, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import type { TestContext } from 'node:test'
import { sr25519Verify } from '@polkadot/util-crypto'
import { MAX_KEY_FILE_BYTES } from '../../../src/constants.js'
import { isPRouterError } from '../../../src/errors.js'
import type { ErrorCode } from '../../../src/errors.js'
import { generateDestinationKeys } from '../../../src/i2p/index.js'
import { DEV_PHRASE, initKeyStore, loadKeyStore } from '../../../src/identity/index.js'
import { tempDir } from '../../helpers/i2pd.js'
import { ALICE, BOB } from '../../helpers/identity-vectors.js'

const mode = async (path: string): Promise<number> => (await stat(path)).mode & 0o777
const readJson = async (path: string): Promise<Record<string, unknown>> =>
  JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>
const fails =
  (code: ErrorCode, ...inMessage: string[]) =>
  (err: unknown): boolean => {
    assert.ok(isPRouterError(err, code), `${code} expected, got ${String(err)}`)
    for (const text of inMessage) assert.ok(err.message.includes(text), `"${text}" in "${err.message}"`)
    return true
  }

async function keyDir(t: TestContext): Promise<string> {
  return join(await tempDir(t, 'prouter-keys-'), 'keys')
}

async function writeWorkerKey(dir: string, content: unknown): Promise<void> {
  const text = typeof content === 'string' ? content : JSON.stringify(content)
  await writeFile(join(dir, 'worker.key'), text, { mode: 0o600 })
}

describe('initKeyStore', () => {
  test('a new key: worker.key and i2p.key, mode 0600, in a new folder of mode 0700', async (t) => {
    const dir = await keyDir(t)
    const store = await initKeyStore(dir)
    assert.equal(await mode(dir), 0o700)
    assert.deepEqual((await readdir(dir)).sort(), ['i2p.key', 'worker.key'], 'no temporary file left')
    for (const file of ['worker.key', 'i2p.key']) assert.equal(await mode(join(dir, file)), 0o600, file)
    const worker = await readJson(join(dir, 'worker.key'))
    assert.deepEqual(Object.keys(worker).sort(), ['publicKey', 'suri', 'type', 'version'])
    assert.equal(worker.version, 1)
    assert.equal(worker.type, 'sr25519')
    assert.equal(String(worker.suri).split(' ').length, 12, 'a fresh key is a 12-word mnemonic')
    assert.equal(worker.publicKey, store.worker.workerKey)
    const i2p = await readJson(join(dir, 'i2p.key'))
    assert.deepEqual(i2p, { version: 1, ...store.i2p, privateKey: store.i2p.privateKey })
    assert.match(store.i2p.b32, /^[a-z2-7]{52}\.b32\.i2p$/)
  })

  test('importing //Alice or a mnemonic', async (t) => {
    const a = await initKeyStore(await keyDir(t), { suri: '//Alice' })
    assert.equal(a.worker.workerKey, `0x${ALICE}`)
    const b = await initKeyStore(await keyDir(t), { suri: `${DEV_PHRASE}//Bob` })
    assert.equal(b.worker.workerKey, `0x${BOB}`)
  })

  test('existing keys are kept unless force; force replaces both', async (t) => {
    const dir = await keyDir(t)
    const first = await initKeyStore(dir, { suri: '//Alice' })
    const before = await readFile(join(dir, 'i2p.key'), 'utf8')
    await assert.rejects(initKeyStore(dir), fails('ERR_KEY_FILE_EXISTS', join(dir, 'worker.key')))
    assert.equal(await readFile(join(dir, 'i2p.key'), 'utf8'), before, 'untouched')
    const second = await initKeyStore(dir, { suri: '//Bob', force: true })
    assert.equal(second.worker.workerKey, `0x${BOB}`)
    assert.notEqual(second.i2p.b32, first.i2p.b32)
    const loaded = await loadKeyStore(dir)
    assert.equal(loaded.worker.workerKey, `0x${BOB}`)
    assert.equal(loaded.i2p.b32, second.i2p.b32)
    for (const file of ['worker.key', 'i2p.key']) assert.equal(await mode(join(dir, file)), 0o600, file)
  })

  test('an i2p.key alone is also kept', async (t) => {
    const dir = await keyDir(t)
    await initKeyStore(dir)
    await rm(join(dir, 'worker.key'))
    await assert.rejects(initKeyStore(dir), fails('ERR_KEY_FILE_EXISTS', 'i2p.key'))
  })

  test('a bad secret URI or option writes nothing', async (t) => {
    const dir = await keyDir(t)
    await assert.rejects(initKeyStore(dir, { suri: 'no such words' }), fails('ERR_KEY_INVALID_SURI'))
    await assert.rejects(
      initKeyStore(dir, { force: 'yes' as unknown as boolean }),
      fails('ERR_INVALID_OPTION', 'force'),
    )
    await assert.rejects(stat(dir), { code: 'ENOENT' })
  })
})

describe('loadKeyStore', () => {
  test('the worker key and the I2P address survive a reload', async (t) => {
    const dir = await keyDir(t)
    const made = await initKeyStore(dir)
    const loaded = await loadKeyStore(dir)
    assert.equal(loaded.worker.workerKey, made.worker.workerKey)
    assert.deepEqual(loaded.worker.publicKey, made.worker.publicKey)
    assert.deepEqual(
      [loaded.i2p.privateKey, loaded.i2p.destination, loaded.i2p.b32],
      [made.i2p.privateKey, made.i2p.destination, made.i2p.b32],
    )
    const message = Buffer.from('after a restart')
    assert.ok(sr25519Verify(message, loaded.worker.sign(message), made.worker.publicKey))
  })

  test('the I2P private key stays out of JSON and logs', async (t) => {
    const dir = await keyDir(t)
    const store = await initKeyStore(dir)
    assert.ok(store.i2p.privateKey.length > 0)
    assert.deepEqual(Object.keys(store.i2p).sort(), ['b32', 'destination'])
    assert.ok(!JSON.stringify(store).includes(store.i2p.privateKey.slice(600)))
  })

  test('missing files: ERR_KEY_FILE_MISSING naming the file', async (t) => {
    const dir = await keyDir(t)
    await assert.rejects(
      loadKeyStore(dir),
      fails('ERR_KEY_FILE_MISSING', join(dir, 'worker.key'), 'keys init'),
    )
    await initKeyStore(dir)
    await rm(join(dir, 'i2p.key'))
    await assert.rejects(loadKeyStore(dir), fails('ERR_KEY_FILE_MISSING', join(dir, 'i2p.key')))
  })

  test('a key file open to group or others: ERR_KEY_FILE_MODE, with its mode and the fix', async (t) => {
    const dir = await keyDir(t)
    await initKeyStore(dir)
    for (const [file, bad] of [
      ['worker.key', 0o640],
      ['worker.key', 0o604],
      ['i2p.key', 0o660],
      ['i2p.key', 0o602],
    ] as const) {
      const path = join(dir, file)
      await chmod(path, bad)
      const octal = `0${bad.toString(8)}`
      await assert.rejects(loadKeyStore(dir), fails('ERR_KEY_FILE_MODE', path, octal, `chmod 600 ${path}`))
      await chmod(path, 0o600)
    }
    await chmod(join(dir, 'worker.key'), 0o400)
    await loadKeyStore(dir) // owner-only read is fine
  })

  test('malformed worker.key: ERR_KEY_FILE_MALFORMED, never quoting the file', async (t) => {
    const dir = await keyDir(t)
    const store = await initKeyStore(dir, { suri: '//Alice' })
    const good = { version: 1, type: 'sr25519', suri: '//Alice', publicKey: store.worker.workerKey }
    const secret = 'bottom drive obey lake curtain smoke'
    const cases: [string, unknown][] = [
      ['not JSON', `{"suri": "${secret}`],
      ['an array', [good]],
      ['version 2', { ...good, version: 2 }],
      ['ed25519', { ...good, type: 'ed25519' }],
      ['no suri', { ...good, suri: undefined }],
      ['suri a number', { ...good, suri: 5 }],
      ['no publicKey', { ...good, publicKey: undefined }],
      ['invalid suri', { ...good, suri: `${secret} nope` }],
    ]
    for (const [name, content] of cases) {
      await writeWorkerKey(dir, content)
      await assert.rejects(loadKeyStore(dir), (err: unknown) => {
        assert.ok(fails('ERR_KEY_FILE_MALFORMED', join(dir, 'worker.key'))(err), name)
        assert.ok(
          !JSON.stringify({ m: (err as Error).message, d: (err as { detail: unknown }).detail }).includes(
            secret,
          ),
          name,
        )
        assert.equal((err as Error).cause, undefined, 'no parse error carried along')
        return true
      })
    }
    await writeWorkerKey(dir, 'x'.repeat(MAX_KEY_FILE_BYTES + 1))
    await assert.rejects(loadKeyStore(dir), fails('ERR_KEY_FILE_MALFORMED', 'larger than'))
    await rm(join(dir, 'worker.key'))
    await mkdir(join(dir, 'worker.key'), { mode: 0o700 })
    await assert.rejects(loadKeyStore(dir), fails('ERR_KEY_FILE_MALFORMED', 'not a regular file'))
  })

  test('a worker.key whose suri does not give its publicKey: ERR_KEY_MISMATCH', async (t) => {
    const dir = await keyDir(t)
    await initKeyStore(dir, { suri: '//Alice' })
    await writeWorkerKey(dir, { version: 1, type: 'sr25519', suri: '//Alice', publicKey: `0x${BOB}` })
    await assert.rejects(loadKeyStore(dir), (err: unknown) => {
      assert.ok(fails('ERR_KEY_MISMATCH', join(dir, 'worker.key'), `0x${ALICE}`)(err))
      assert.ok(!(err as Error).message.includes('//Alice'), 'the suri is not quoted')
      return true
    })
    await writeWorkerKey(dir, {
      version: 1,
      type: 'sr25519',
      suri: '//Alice',
      publicKey: `0x${ALICE.toUpperCase()}`,
    })
    assert.equal((await loadKeyStore(dir)).worker.workerKey, `0x${ALICE}`, 'hex case does not matter')
  })

  test('an i2p.key that is malformed or contradicts itself', async (t) => {
    const dir = await keyDir(t)
    const { i2p } = await initKeyStore(dir)
    const good = { version: 1, privateKey: i2p.privateKey, destination: i2p.destination, b32: i2p.b32 }
    const other = await generateDestinationKeys()
    const cases: [string, unknown, ErrorCode][] = [
      ['version 0', { ...good, version: 0 }, 'ERR_KEY_FILE_MALFORMED'],
      ['no privateKey', { ...good, privateKey: undefined }, 'ERR_KEY_FILE_MALFORMED'],
      ['privateKey not base64', { ...good, privateKey: 'not base64!' }, 'ERR_KEY_FILE_MALFORMED'],
      ['privateKey only a destination', { ...good, privateKey: i2p.destination }, 'ERR_KEY_FILE_MALFORMED'],
      ["another key's destination", { ...good, destination: other.destination }, 'ERR_KEY_MISMATCH'],
      ["another key's b32", { ...good, b32: other.b32 }, 'ERR_KEY_MISMATCH'],
    ]
    for (const [name, content, code] of cases) {
      await writeFile(join(dir, 'i2p.key'), JSON.stringify(content), { mode: 0o600 })
      await assert.rejects(loadKeyStore(dir), (err: unknown) => {
        assert.ok(fails(code, join(dir, 'i2p.key'))(err), name)
        assert.ok(!(err as Error).message.includes(i2p.privateKey.slice(500, 540)), 'no key material')
        return true
      })
    }
  })
})
