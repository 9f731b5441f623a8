/**
 * Sequence numbers for ordered messages: per receiver from 1, unique under concurrent takes, kept across a
 * restart, the file 0600; a file that does not parse refuses numbers (never starts again at 1) and is left
 * as it was.
 */
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isPRouterError } from '../../../src/errors.js'
import { createSequences } from '../../../src/messages/sequence.js'

const A = `0x${'a'.repeat(64)}`
const B = `0x${'b'.repeat(64)}`

async function file(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'prouter-seq-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  return join(dir, 'sequence.json')
}

test('numbers count from 1 per receiver, unique and in call order under concurrent takes', async (t) => {
  const seq = createSequences({ file: await file(t) })
  const taken = await Promise.all([A, B, A, A, B, A].map((r) => seq.take(r)))
  assert.deepEqual(taken, [1, 1, 2, 3, 2, 4])
})

test('a restart goes on where the last run stopped; the file is 0600', async (t) => {
  const path = await file(t)
  const first = createSequences({ file: path })
  for (let i = 0; i < 5; i++) await first.take(A)
  await first.take(B)
  const again = createSequences({ file: path })
  assert.equal(await again.take(A), 6)
  assert.equal(await again.take(B), 2)
  assert.equal((await stat(path)).mode & 0o777, 0o600)
})

test('a file that does not parse: ERR_MESSAGE_SEQUENCE, and the file is left as it was', async (t) => {
  const path = await file(t)
  for (const junk of ['{"v":1,"next":{', '{"v":2,"next":{}}', `{"v":1,"next":{"${A}":0}}`, '[]']) {
    await writeFile(path, junk)
    const seq = createSequences({ file: path })
    await assert.rejects(seq.take(A), (err) => isPRouterError(err, 'ERR_MESSAGE_SEQUENCE'), junk)
    await assert.rejects(seq.take(B), (err) => isPRouterError(err, 'ERR_MESSAGE_SEQUENCE'), 'still refused')
    assert.equal(await readFile(path, 'utf8'), junk)
  }
})
