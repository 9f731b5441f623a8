import assert from 'node:assert/strict'
import { IncomingMessage, type IncomingHttpHeaders } from 'node:http'
import { Socket } from 'node:net'
import { test } from 'node:test'
import { createTokenCheck, unauthorized } from '../../../src/api/auth.js'

const TOKEN = 'tok-3f9a1c7e5b2d4a6c8e0f'
const auth = createTokenCheck(TOKEN)

/** The check only reads headers (lower-case names, as node:http gives them). */
function req(headers: IncomingHttpHeaders): IncomingMessage {
  const message = new IncomingMessage(new Socket())
  message.headers = headers
  return message
}
const basic = (user: string, password: string): string =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`

test('API: Authorization Bearer carries the token, and says so', () => {
  assert.deepEqual(auth.api(req({ authorization: `Bearer ${TOKEN}` })), { ok: true, header: 'authorization' })
  assert.deepEqual(auth.api(req({ authorization: `bearer   ${TOKEN}` })), {
    ok: true,
    header: 'authorization',
  })
})

test('API: X-PRouter-Token carries the token (a header never forwarded)', () => {
  assert.deepEqual(auth.api(req({ 'x-prouter-token': TOKEN })), { ok: true, header: undefined })
  const both = auth.api(req({ authorization: 'Bearer for-the-remote-service', 'x-prouter-token': TOKEN }))
  assert.deepEqual(both, { ok: true, header: undefined }, 'an unrelated Authorization is left alone')
})

test('API: a missing, wrong or mangled token is refused', () => {
  const refused: IncomingHttpHeaders[] = [
    {},
    { authorization: 'Bearer wrong' },
    { authorization: `Bearer ${TOKEN}x` },
    { authorization: `Bearer ${TOKEN.slice(0, -1)}` },
    { authorization: TOKEN },
    { authorization: `Token ${TOKEN}` },
    { authorization: `Bearer ${TOKEN} extra` },
    { authorization: basic('u', TOKEN) },
    { 'proxy-authorization': `Bearer ${TOKEN}` },
    { 'x-prouter-token': `${TOKEN} ` },
    { 'x-prouter-token': '' },
  ]
  for (const headers of refused) assert.equal(auth.api(req(headers)).ok, false, JSON.stringify(headers))
})

test('proxy: Proxy-Authorization Bearer, or Basic with the token as password', () => {
  const accepted = [
    `Bearer ${TOKEN}`,
    `BEARER ${TOKEN}`,
    basic('prouter', TOKEN),
    basic('', TOKEN),
    `basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}`,
  ]
  for (const value of accepted) assert.equal(auth.proxy(req({ 'proxy-authorization': value })), true, value)
})

test('proxy: a password holding ":" is taken whole after the first colon', () => {
  const colon = createTokenCheck('a:b:c')
  assert.equal(colon.proxy(req({ 'proxy-authorization': basic('user', 'a:b:c') })), true)
  assert.equal(colon.proxy(req({ 'proxy-authorization': basic('user', 'a:b') })), false)
})

test('proxy: wrong credentials, or the token in the wrong header, are refused', () => {
  const refused: IncomingHttpHeaders[] = [
    {},
    { 'proxy-authorization': 'Bearer wrong' },
    { 'proxy-authorization': basic(TOKEN, 'wrong') }, // the token as user name is not enough
    { 'proxy-authorization': `Basic ${Buffer.from(TOKEN).toString('base64')}` }, // no colon
    { 'proxy-authorization': 'Basic !!!' },
    { authorization: `Bearer ${TOKEN}` },
    { 'x-prouter-token': TOKEN },
  ]
  for (const headers of refused) assert.equal(auth.proxy(req(headers)), false, JSON.stringify(headers))
})

test('unauthorized() is ERR_API_UNAUTHORIZED and tells how to authenticate', () => {
  const err = unauthorized()
  assert.equal(err.code, 'ERR_API_UNAUTHORIZED')
  assert.match(err.message, /Authorization: Bearer/)
})
