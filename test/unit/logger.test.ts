/**
 * The logger factory writes lines a JSON parser reads whole: a key bound by a parent and again by a child
 * (the daemon's `component` and its API's) appears once, `component` as a path. Real pino output, read back
 * from a file.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { closeSync, openSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createLogger, mergeBindings } from '../../src/logger.js'
import { tempDir } from '../helpers/i2pd.js'

async function linesOf(write: (fd: number) => void, dir: string): Promise<string[]> {
  const file = join(dir, 'log.ndjson')
  const fd = openSync(file, 'w')
  try {
    write(fd)
  } finally {
    closeSync(fd)
  }
  return (await readFile(file, 'utf8')).split('\n').filter((l) => l !== '')
}

test('a child of a child: every binding once, component as a path, JSON.parse sees all', async (t) => {
  const lines = await linesOf(
    (fd) => {
      const root = createLogger({ level: 'debug', fd })
      const daemon = root.child({ component: 'daemon' })
      const api = daemon.child({ component: 'api' })
      api.info({ port: 7620 }, 'listening')
      const router = daemon.child({ component: 'router', router: 'alice' })
      router.child({ router: 'bob' }).warn('restart')
      router.child({ component: 'sam', sam: '127.0.0.1:7656' }).error({ err: new Error('boom') }, 'failed')
      daemon.debug('plain')
    },
    await tempDir(t, 'prouter-log-'),
  )
  assert.equal(lines.length, 4)
  for (const line of lines) {
    const keys = [...line.matchAll(/"(component|router|sam)":/g)].map((m) => m[1])
    assert.equal(new Set(keys).size, keys.length, `a key written twice: ${line}`)
  }
  const [api, restart, failed, plain] = lines.map((l) => JSON.parse(l) as Record<string, unknown>)
  assert.deepEqual([api?.component, api?.port, api?.msg], ['daemon/api', 7620, 'listening'])
  assert.deepEqual([restart?.component, restart?.router, restart?.msg], ['daemon/router', 'bob', 'restart'])
  assert.deepEqual(
    [failed?.component, failed?.router, failed?.sam],
    ['daemon/router/sam', 'alice', '127.0.0.1:7656'],
  )
  assert.equal((failed?.err as { message?: string } | undefined)?.message, 'boom', 'errors still serialized')
  assert.deepEqual([plain?.component, plain?.msg, plain?.level], ['daemon', 'plain', 20])
})

test('the level filters: debug lines dropped at info', async (t) => {
  const lines = await linesOf(
    (fd) => {
      const log = createLogger({ level: 'info', fd }).child({ component: 'x' })
      log.debug('hidden')
      log.info('shown')
    },
    await tempDir(t, 'prouter-log-'),
  )
  assert.deepEqual(
    lines.map((l) => (JSON.parse(l) as { msg: string }).msg),
    ['shown'],
  )
})

test('mergeBindings: a path for component, the child wins elsewhere, the parent untouched', () => {
  const parent = { component: 'daemon', worker: 'alice' }
  assert.deepEqual(mergeBindings(parent, { component: 'api', worker: 'bob' }), {
    component: 'daemon/api',
    worker: 'bob',
  })
  assert.deepEqual(mergeBindings({}, { component: 'api' }), { component: 'api' })
  assert.deepEqual(mergeBindings(parent, { session: 's1' }), { ...parent, session: 's1' })
  assert.deepEqual(parent, { component: 'daemon', worker: 'alice' })
})
