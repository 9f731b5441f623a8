import assert from 'node:assert/strict'
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import { isPRouterError } from '../../../src/errors.js'
import { silentLogger } from '../../../src/logger.js'
import { createOutbox, type OutboxEntry } from '../../../src/messages/outbox.js'

const RECEIVER = `0x${'ab'.repeat(32)}`
const entry = (n: number): OutboxEntry => ({
  id: n.toString(16).padStart(32, '0'),
  receiver: RECEIVER,
  created: 1000 + n,
  wire: Buffer.from([n, 0, 255, 10]),
})

async function folder(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'prouter-outbox-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  return join(dir, 'outbox')
}

test('a message put is on disk (0600) and comes back, oldest first, after a restart; removed ones do not', async (t) => {
  const dir = await folder(t)
  const outbox = createOutbox({ dir }, { logger: silentLogger() })
  assert.deepEqual(await outbox.open(), [])
  assert.equal((await stat(dir)).mode & 0o777, 0o700)
  for (const n of [3, 1, 2]) await outbox.put(entry(n))
  await outbox.remove(entry(2).id)
  const file = join(dir, `${entry(1).id}.msg`)
  assert.equal((await stat(file)).mode & 0o777, 0o600)
  const reopened = createOutbox({ dir }, { logger: silentLogger() })
  assert.deepEqual(await reopened.open(), [entry(1), entry(3)])
  assert.equal(reopened.size, 2)
  assert.deepEqual((await readdir(dir)).sort(), [`${entry(1).id}.msg`, `${entry(3).id}.msg`])
})

test('a file that does not parse is kept as .corrupt, a half-written temporary file is ignored', async (t) => {
  const dir = await folder(t)
  const outbox = createOutbox({ dir }, { logger: silentLogger() })
  await outbox.open()
  await outbox.put(entry(1))
  await writeFile(join(dir, `${entry(2).id}.msg`), '{"v":1,')
  await writeFile(join(dir, `${entry(3).id}.msg`), JSON.stringify({ v: 1, id: entry(4).id }))
  await writeFile(join(dir, `${entry(5).id}.msg.tmp-abc`), 'partial')
  const reopened = createOutbox({ dir }, { logger: silentLogger() })
  assert.deepEqual(await reopened.open(), [entry(1)])
  const names = await readdir(dir)
  assert.ok(names.includes(`${entry(2).id}.msg.corrupt`))
  assert.ok(names.includes(`${entry(3).id}.msg.corrupt`))
})

test('past its limit the outbox refuses with ERR_MESSAGE_OUTBOX_FULL, and takes more once one is removed', async (t) => {
  const outbox = createOutbox({ dir: await folder(t), maxEntries: 2 }, { logger: silentLogger() })
  await outbox.open()
  await outbox.put(entry(1))
  await outbox.put(entry(2))
  await assert.rejects(outbox.put(entry(3)), (err: unknown) => isPRouterError(err, 'ERR_MESSAGE_OUTBOX_FULL'))
  await outbox.remove(entry(1).id)
  await outbox.put(entry(3))
})
