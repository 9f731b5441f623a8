import { test } from 'node:test'
import assert from 'node:assert/strict'
import { compareVersions, parseI2pdVersion } from '../../../src/router/version.js'

test('parses the version line i2pd prints', () => {
  assert.equal(parseI2pdVersion('i2pd version 2.56.0 (0.9.65)\nBoost version 1.83.0\n'), '2.56.0')
  assert.equal(parseI2pdVersion('something else'), undefined)
})

test('compares dotted versions numerically', () => {
  assert.ok(compareVersions('2.45.1', '2.51.0') < 0)
  assert.ok(compareVersions('2.56.0', '2.51.0') > 0)
  assert.ok(compareVersions('2.100.0', '2.51.0') > 0)
  assert.equal(compareVersions('2.51.0', '2.51'), 0)
})
