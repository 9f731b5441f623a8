import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { isPRouterError } from '../../../src/errors.js'
import { generateDestination, samHello } from '../../../src/sam/destination.js'
import { startFakeSamBridge, steps } from '../../helpers/fake-sam-bridge.js'
import { fakeKeys } from '../../helpers/sam-keys.js'

describe('generateDestination and samHello over a fake bridge', () => {
  test('DEST GENERATE returns the pair, checked against each other', async (t) => {
    const keys = fakeKeys(9)
    const bridge = await startFakeSamBridge([
      [
        steps.hello(),
        steps.reply(
          /^DEST GENERATE SIGNATURE_TYPE=7$/,
          `DEST REPLY PUB=${keys.destination} PRIV=${keys.privateKey}`,
        ),
      ],
    ])
    t.after(() => bridge.close())
    const generated = await generateDestination(bridge.address, { signal: AbortSignal.timeout(5000) })
    assert.deepEqual(generated, { destination: keys.destination, privateKey: keys.privateKey, b32: keys.b32 })
  })

  test('a PUB that does not belong to the PRIV is a protocol error', async (t) => {
    const bridge = await startFakeSamBridge([
      [
        steps.hello(),
        steps.reply(
          /^DEST GENERATE/,
          `DEST REPLY PUB=${fakeKeys(1).destination} PRIV=${fakeKeys(2).privateKey}`,
        ),
      ],
    ])
    t.after(() => bridge.close())
    await assert.rejects(generateDestination(bridge.address), (err) =>
      isPRouterError(err, 'ERR_SAM_PROTOCOL'),
    )
  })

  test('samHello returns the negotiated version; NOVERSION is typed', async (t) => {
    const bridge = await startFakeSamBridge([
      [steps.hello('3.2')],
      [steps.reply(/^HELLO VERSION/, 'HELLO REPLY RESULT=NOVERSION')],
    ])
    t.after(() => bridge.close())
    assert.equal(await samHello(bridge.address, { timeout: 5000 }), '3.2')
    await assert.rejects(samHello(bridge.address), (err) => isPRouterError(err, 'ERR_SAM_NO_VERSION'))
  })

  test('samHello to a closed port -> ERR_SAM_CONNECT naming host:port', async () => {
    const bridge = await startFakeSamBridge([])
    const { address } = bridge
    await bridge.close()
    await assert.rejects(
      samHello(address),
      (err) => isPRouterError(err, 'ERR_SAM_CONNECT') && err.message.includes(`127.0.0.1:${address.port}`),
    )
  })
})
