/** Pure pieces of the EVM backend: URL redaction for messages and logs, and the `submit` arguments. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { redactUrl } from '../../../src/registry/evm/rpc-errors.js'
import { submitArgs } from '../../../src/registry/evm/submit.js'

test('redactUrl keeps host and port, drops credentials, query and key-like path segments', () => {
  assert.equal(redactUrl('http://127.0.0.1:8545'), 'http://127.0.0.1:8545')
  assert.equal(redactUrl('https://user:pw@rpc.example.org/rpc?apikey=s3cret'), 'https://rpc.example.org/rpc')
  assert.equal(
    redactUrl('https://eth.example.io/v3/9aa3d95b3bc440fa88ea12eaa4456161'),
    'https://eth.example.io/v3/***',
  )
  assert.equal(redactUrl('not a url'), '<invalid URL>')
})

test('submitArgs sends the payload key as bytes32, and zero-pads a payload too short to hold one', () => {
  const payload = Uint8Array.from({ length: 50 }, (_, i) => i)
  const signature = new Uint8Array(64).fill(0xab)
  const [key, hexPayload, hexSignature] = submitArgs({ payload, signature })
  assert.equal(key, `0x${Buffer.from(payload.subarray(0, 32)).toString('hex')}`)
  assert.equal(hexPayload, `0x${Buffer.from(payload).toString('hex')}`)
  assert.equal(hexSignature, `0x${'ab'.repeat(64)}`)
  const [short] = submitArgs({ payload: Uint8Array.of(1, 2), signature })
  assert.equal(short, `0x0102${'00'.repeat(30)}`)
})
