import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { writeFileAtomic, writeFileDurably } from '../../src/files.js'
import { tempDir } from '../helpers/daemon-config.js'

test('durable writes to one folder at once: each file whole, mode 0600, no temporary file left', async (t) => {
  const dir = await tempDir(t)
  const names = Array.from({ length: 200 }, (_, i) => `f${i}.msg`)
  await Promise.all(names.map((n) => writeFileDurably(join(dir, n), `contents of ${n}`)))
  assert.deepEqual((await readdir(dir)).sort(), [...names].sort())
  for (const n of names) {
    assert.equal(await readFile(join(dir, n), 'utf8'), `contents of ${n}`)
    assert.equal((await stat(join(dir, n))).mode & 0o777, 0o600)
  }
})

test('a durable write over an existing file replaces it whole', async (t) => {
  const dir = await tempDir(t)
  const path = join(dir, 'state.json')
  await writeFileDurably(path, 'old')
  await Promise.all([writeFileDurably(path, 'new one'), writeFileDurably(join(dir, 'other'), 'x')])
  assert.equal(await readFile(path, 'utf8'), 'new one')
  assert.deepEqual((await readdir(dir)).sort(), ['other', 'state.json'])
})

test('a write that cannot be made fails, for every writer of that folder, and leaves nothing', async (t) => {
  const dir = await tempDir(t)
  const missing = join(dir, 'gone')
  const results = await Promise.allSettled([
    writeFileDurably(join(missing, 'a'), 'a'),
    writeFileDurably(join(missing, 'b'), 'b'),
    writeFileAtomic(join(missing, 'c'), 'c', 0o600),
  ])
  assert.deepEqual(
    results.map((r) => r.status),
    ['rejected', 'rejected', 'rejected'],
  )
  assert.deepEqual(await readdir(dir), [])
  await writeFileDurably(join(dir, 'after'), 'ok') // a failure does not wedge the folder's next writes
  assert.equal(await readFile(join(dir, 'after'), 'utf8'), 'ok')
})
