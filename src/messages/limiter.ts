/** At most `limit` holders at once; the others wait in arrival order. */
export interface Limiter {
  acquire(): Promise<void>
  release(): void
  readonly active: number
  readonly waiting: number
}

export function createLimiter(limit: number): Limiter {
  let active = 0
  const queue: (() => void)[] = []
  return {
    acquire() {
      if (active < limit) {
        active++
        return Promise.resolve()
      }
      return new Promise((resolve) => queue.push(resolve))
    },
    release() {
      const next = queue.shift()
      if (next === undefined) active--
      else next() // the slot passes straight on
    },
    get active() {
      return active
    },
    get waiting() {
      return queue.length
    },
  }
}
