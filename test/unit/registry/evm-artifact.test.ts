/** The committed contract artifact is what the committed Solidity source compiles to, byte for byte. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import {
  ARTIFACT_PATH,
  SOURCE_PATH,
  compileRegistry,
  renderArtifact,
} from '../../../scripts/compile-contracts.js'
import {
  WORKER_REGISTRY_SOURCE_SHA256,
  workerRegistryAbi,
  workerRegistryDeployedBytecode,
} from '../../../src/registry/evm/artifact.js'

const STALE = 'run `node --import tsx scripts/compile-contracts.ts` and commit src/registry/evm/artifact.ts'

test('the artifact was generated from the current contracts/WorkerRegistry.sol', async () => {
  const source = await readFile(SOURCE_PATH)
  assert.equal(createHash('sha256').update(source).digest('hex'), WORKER_REGISTRY_SOURCE_SHA256, STALE)
})

test('recompiling the source reproduces the committed artifact exactly', async () => {
  const compiled = await compileRegistry()
  assert.equal(compiled.deployedBytecode, workerRegistryDeployedBytecode, STALE)
  assert.equal(await renderArtifact(compiled), await readFile(ARTIFACT_PATH, 'utf8'), STALE)
})

test('the ABI has the submit function and the BindingSubmitted event resolvers read', () => {
  const names = workerRegistryAbi.map((item) => `${item.type}:${'name' in item ? item.name : ''}`)
  assert.ok(names.includes('function:submit'))
  assert.ok(names.includes('event:BindingSubmitted'))
  const event = workerRegistryAbi.find((item) => item.type === 'event')
  assert.deepEqual(
    event?.inputs.map((i) => [i.name, i.type, i.indexed]),
    [
      ['workerKey', 'bytes32', true],
      ['payload', 'bytes', false],
      ['signature', 'bytes', false],
      ['relayer', 'address', false],
    ],
  )
})
