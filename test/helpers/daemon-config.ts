/** What the daemon's config tests share: a data folder with an API token already in it, and the error check. */
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { API_TOKEN_FILE } from '../../src/daemon/config.js'
import { isPRouterError } from '../../src/errors.js'

export const TOKEN = 'a-test-token-of-enough-length'

/** An empty temporary folder, removed after the test. */
export async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'prouter-config-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/** A data folder that already holds an API token, so loads do not generate one. */
export async function dataDir(t: TestContext): Promise<string> {
  const dir = await tempDir(t)
  await writeFile(join(dir, API_TOKEN_FILE), TOKEN + '\n', { mode: 0o600 })
  return dir
}

/** ERR_INVALID_OPTION naming `option`, with each of `inMessage` in the message. */
export const invalid =
  (option: string, ...inMessage: string[]) =>
  (err: unknown): boolean => {
    assert.ok(isPRouterError(err, 'ERR_INVALID_OPTION'), `ERR_INVALID_OPTION expected, got ${String(err)}`)
    assert.equal(err.detail?.option, option, err.message)
    for (const text of inMessage) assert.ok(err.message.includes(text), `"${text}" in "${err.message}"`)
    return true
  }
