/**
 * Adaptive eth_getLogs windows against a scriptable JSON-RPC node on loopback (the corner case anvil
 * cannot play: a node that caps a query's range or results). One event per block, blocks 0..199.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { encodeAbiParameters, encodeEventTopics, hexToNumber, pad, toHex } from 'viem'
import type { Hex } from 'viem'
import { workerRegistryAbi } from '../../../src/registry/evm/artifact.js'
import { createEvmRpc } from '../../../src/registry/evm/rpc.js'
import { createAdaptiveScan, scanEvents } from '../../../src/registry/evm/log-scan.js'
import { isPRouterError } from '../../../src/errors.js'

const ADDRESS = `0x${'12'.repeat(20)}` as const
const TOPIC = encodeEventTopics({ abi: workerRegistryAbi, eventName: 'BindingSubmitted' })[0]
const BLOCKS = 200

interface FakeNode {
  url: string
  /** The block spans asked for, in order. */
  asked: number[]
}

/** `refuse(span)` returns a JSON-RPC error object for a window of `span` blocks, or undefined to answer. */
async function fakeNode(
  t: { after: (fn: () => Promise<void>) => void },
  refuse: (span: number) => { code: number; message: string } | undefined,
): Promise<FakeNode> {
  const asked: number[] = []
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (chunk: Buffer) => (body += chunk.toString()))
    req.on('end', () => {
      const call = JSON.parse(body) as { id: number; params: [{ fromBlock: Hex; toBlock: Hex }] }
      const from = hexToNumber(call.params[0].fromBlock)
      const to = hexToNumber(call.params[0].toBlock)
      asked.push(to - from + 1)
      const error = refuse(to - from + 1)
      const answer = error === undefined ? { result: logs(from, Math.min(to, BLOCKS - 1)) } : { error }
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({ jsonrpc: '2.0', id: call.id, ...answer }))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(
    () =>
      new Promise<void>((resolve) =>
        server.close(() => {
          resolve()
        }),
      ),
  )
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, asked }
}

function logs(from: number, to: number): object[] {
  const out: object[] = []
  for (let block = from; block <= to; block++) {
    const payload = toHex(new Uint8Array(42).fill(block % 256))
    const data = encodeAbiParameters(
      [{ type: 'bytes' }, { type: 'bytes' }, { type: 'address' }],
      [payload, toHex(new Uint8Array(64)), ADDRESS],
    )
    out.push({
      address: ADDRESS,
      topics: [TOPIC, pad(toHex(block), { size: 32 })],
      data,
      blockNumber: toHex(block),
    })
  }
  return out
}

function scanner(url: string, maxBlockRange: bigint) {
  return createAdaptiveScan(
    createEvmRpc({ rpcUrl: url, timeout: 5_000, pollInterval: 100 }),
    ADDRESS,
    maxBlockRange,
  )
}

test('a node that refuses more than 25 blocks: windows are halved until answered, every event comes back once, in order', async (t) => {
  const node = await fakeNode(t, (span) =>
    span > 25 ? { code: -32005, message: 'query returned more than 10000 results' } : undefined,
  )
  const scan = scanner(node.url, 100n)
  const events = await scanEvents(scan, { fromBlock: 0n, toBlock: 149n })
  assert.equal(events.length, 150)
  assert.deepEqual(
    events.map((e) => Number(BigInt(e.workerKey))),
    Array.from({ length: 150 }, (_, i) => i),
  )
  assert.deepEqual(
    node.asked.slice(0, 7),
    [1, 2, 4, 8, 16, 32, 16],
    'grown on light answers, halved on the refusal',
  )
  assert.equal(scan.refusals, 1)
  assert.equal(scan.ceiling, 16n, 'the halved size is the ceiling from now on')

  node.asked.length = 0
  await scanEvents(scan, { fromBlock: 0n, toBlock: 199n })
  assert.ok(
    node.asked.every((span) => span <= 16),
    'the next scan starts from the learned window: no refusal again',
  )
  assert.equal(scan.refusals, 1)
})

test('refusals worded by other nodes (range, size, -32602) split too; HTTP-level failures and other errors do not', async (t) => {
  const worded = await fakeNode(t, (span) =>
    span > 10 ? { code: -32602, message: 'eth_getLogs is limited to a 10 block range' } : undefined,
  )
  assert.equal((await scanEvents(scanner(worded.url, 64n), { fromBlock: 0n, toBlock: 99n })).length, 100)

  const broken = await fakeNode(t, () => ({ code: -32000, message: 'internal error: database closed' }))
  const learned = scanner(broken.url, 64n)
  learned.window = 64n // as if light answers had grown it
  await assert.rejects(scanEvents(learned, { fromBlock: 0n, toBlock: 99n }), (err: unknown) =>
    isPRouterError(err, 'ERR_EVM_RPC'),
  )
  assert.deepEqual(broken.asked, [64], 'an error that is not about size is not retried in halves')
})

test('a node that refuses even one block: ERR_EVM_RPC, after log2(window) halvings', async (t) => {
  const node = await fakeNode(t, () => ({ code: -32005, message: 'too many results' }))
  const learned = scanner(node.url, 64n)
  learned.window = 64n // as if light answers had grown it
  await assert.rejects(scanEvents(learned, { fromBlock: 0n, toBlock: 99n }), (err: unknown) =>
    isPRouterError(err, 'ERR_EVM_RPC'),
  )
  assert.deepEqual(node.asked, [64, 32, 16, 8, 4, 2, 1])
})

test('the signal stops a scan between windows', async (t) => {
  const node = await fakeNode(t, () => undefined)
  const controller = new AbortController()
  const scan = scanner(node.url, 1n)
  const scanning = scanEvents(scan, { fromBlock: 0n, toBlock: 10_000n }, controller.signal)
  setTimeout(() => {
    controller.abort(new Error('enough'))
  }, 50)
  await assert.rejects(scanning, /enough/)
  assert.ok(node.asked.length < 10_000)
})
