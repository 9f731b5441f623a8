import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { ERROR_CODES, isPRouterError } from '../../../src/errors.js'
import { parseReply } from '../../../src/sam/reply.js'
import { assertOk, errorCodeForResult, errorFromReply, SAM_RESULT_CODES } from '../../../src/sam/results.js'

describe('RESULT table', () => {
  test('every RESULT value maps to its code', () => {
    const expected = {
      OK: null,
      CANT_REACH_PEER: 'ERR_SAM_CANT_REACH_PEER',
      PEER_NOT_FOUND: 'ERR_SAM_PEER_NOT_FOUND',
      KEY_NOT_FOUND: 'ERR_SAM_KEY_NOT_FOUND',
      DUPLICATED_ID: 'ERR_SAM_DUPLICATED_ID',
      DUPLICATED_DEST: 'ERR_SAM_DUPLICATED_DEST',
      INVALID_ID: 'ERR_SAM_INVALID_ID',
      INVALID_KEY: 'ERR_SAM_INVALID_KEY',
      I2P_ERROR: 'ERR_SAM_I2P_ERROR',
      TIMEOUT: 'ERR_SAM_BRIDGE_TIMEOUT',
      NOVERSION: 'ERR_SAM_NO_VERSION',
      ALREADY_ACCEPTING: 'ERR_SAM_ALREADY_ACCEPTING',
    }
    assert.deepEqual({ ...SAM_RESULT_CODES }, expected)
    for (const [result, code] of Object.entries(expected)) {
      assert.equal(errorCodeForResult(result), code, result)
      if (code !== null) assert.ok(Object.hasOwn(ERROR_CODES, code), `${code} is a listed code`)
    }
  })

  test('unknown values (and prototype names) -> ERR_SAM_RESULT_UNKNOWN', () => {
    for (const result of ['SOMETHING_NEW', 'ok', 'toString', '__proto__', '']) {
      assert.equal(errorCodeForResult(result), 'ERR_SAM_RESULT_UNKNOWN', result)
    }
  })

  test('errorFromReply keeps MESSAGE and the raw line, says what and where', () => {
    const raw = 'STREAM STATUS RESULT=CANT_REACH_PEER MESSAGE="LeaseSet not found"'
    const err = errorFromReply(parseReply(raw), 'STREAM CONNECT via 127.0.0.1:7656')
    assert.equal(err.code, 'ERR_SAM_CANT_REACH_PEER')
    assert.match(err.message, /STREAM CONNECT via 127\.0\.0\.1:7656.*CANT_REACH_PEER.*LeaseSet not found/)
    assert.deepEqual(err.detail, { result: 'CANT_REACH_PEER', message: 'LeaseSet not found', raw })
  })

  test('a reply without RESULT is a protocol error; private keys never reach the detail', () => {
    const err = errorFromReply(parseReply('SESSION STATUS DESTINATION=secretkey=='), 'SESSION CREATE')
    assert.equal(err.code, 'ERR_SAM_PROTOCOL')
    assert.doesNotMatch(JSON.stringify(err.detail), /secretkey/)
  })

  test('assertOk passes OK through and throws the mapped error otherwise', () => {
    const ok = parseReply('NAMING REPLY RESULT=OK NAME=x VALUE=y')
    assert.equal(assertOk(ok, 'NAMING LOOKUP'), ok)
    assert.throws(
      () => assertOk(parseReply('NAMING REPLY RESULT=KEY_NOT_FOUND NAME=x'), 'NAMING LOOKUP'),
      (err) => isPRouterError(err, 'ERR_SAM_KEY_NOT_FOUND'),
    )
  })
})
