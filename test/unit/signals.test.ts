import { test } from 'node:test'
import assert from 'node:assert/strict'
import { abortable } from '../../src/signals.js'

function later<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: Error) => void } {
  let resolve!: (v: T) => void
  let reject!: (e: Error) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

test('abortable: the work wins while the signal is quiet, success or failure', async () => {
  const discarded: string[] = []
  const c = new AbortController()
  assert.equal(await abortable(Promise.resolve('v'), c.signal, (v) => discarded.push(v)), 'v')
  await assert.rejects(
    abortable(Promise.reject(new Error('boom')), c.signal, () => undefined),
    /boom/,
  )
  assert.equal(await abortable(Promise.resolve('no signal'), undefined, () => undefined), 'no signal')
  c.abort(new Error('late abort'))
  assert.deepEqual(discarded, [])
})

test('abortable: an abort rejects at once with its reason; what the work yields later is discarded', async () => {
  const work = later<string>()
  const discarded: string[] = []
  const c = new AbortController()
  const pending = abortable(work.promise, c.signal, (v) => discarded.push(v))
  c.abort(new Error('stopping'))
  await assert.rejects(pending, /stopping/)
  work.resolve('opened too late')
  await work.promise
  await Promise.resolve()
  assert.deepEqual(discarded, ['opened too late'])

  const already = new AbortController()
  already.abort(new Error('before'))
  const failing = later<string>()
  await assert.rejects(
    abortable(failing.promise, already.signal, () => undefined),
    /before/,
  )
  failing.reject(new Error('the work failed afterwards: nobody is left to tell, and nothing is unhandled'))
})
