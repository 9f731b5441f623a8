import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  CALLER_ADDRESS_HEADER,
  CALLER_HEADER,
  forwardableHeaders,
  TOKEN_HEADER,
} from '../../../src/proxy/headers.js'

const END_TO_END = {
  accept: 'application/json',
  'content-type': 'text/plain',
  'content-length': '3',
  authorization: 'Bearer remote',
  cookie: 'a=1',
  'set-cookie': ['a=1', 'b=2'],
  'x-custom': 'kept',
}

test('end-to-end headers are kept as they are', () => {
  assert.deepEqual(forwardableHeaders(END_TO_END), END_TO_END)
})

test('hop-by-hop headers and Host are removed', () => {
  const out = forwardableHeaders({
    ...END_TO_END,
    connection: 'keep-alive',
    'keep-alive': 'timeout=5',
    'proxy-authenticate': 'Bearer',
    'proxy-authorization': 'Bearer local-token',
    'proxy-connection': 'keep-alive',
    te: 'trailers',
    trailer: 'x-checksum',
    'transfer-encoding': 'chunked',
    upgrade: 'websocket',
    host: 'worker.prouter',
  })
  assert.deepEqual(out, END_TO_END)
})

test('headers named in Connection are removed, whatever their case and spacing', () => {
  const out = forwardableHeaders({
    ...END_TO_END,
    connection: 'close, X-Trace ,x-session',
    'x-trace': '1',
    'x-session': 's',
  })
  assert.deepEqual(out, END_TO_END)
})

test('every x-prouter-* header is removed, so a client cannot claim a caller', () => {
  const out = forwardableHeaders({
    ...END_TO_END,
    [CALLER_HEADER]: `0x${'ab'.repeat(32)}`,
    [CALLER_ADDRESS_HEADER]: 'spoofed.b32.i2p',
    [TOKEN_HEADER]: 'local-token',
    'x-prouter-anything': 'x',
  })
  assert.deepEqual(out, END_TO_END)
})

test('names in drop are removed; other x- headers stay', () => {
  const out = forwardableHeaders({ ...END_TO_END, 'x-prouterish': 'kept' }, ['authorization', 'cookie'])
  const rest = Object.entries(END_TO_END).filter(([name]) => name !== 'authorization' && name !== 'cookie')
  assert.deepEqual(out, { ...Object.fromEntries(rest), 'x-prouterish': 'kept' })
})

test('the input is not modified', () => {
  const input = { ...END_TO_END, connection: 'x-custom' }
  forwardableHeaders(input, ['accept'])
  assert.deepEqual(input, { ...END_TO_END, connection: 'x-custom' })
})
