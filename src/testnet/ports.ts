/** Addresses for a testnet: one loopback IP per router, free ports asked of the kernel. */
import { createHash } from 'node:crypto'
export { freePort } from '../router/free-port.js'

/**
 * The loopback /24 a testnet in `dir` uses: 127.X.Y.0 with X.Y derived from the folder's path, so two
 * testnets in different folders get different addresses (and can coexist) without coordination.
 */
export function loopbackPrefix(dir: string): string {
  const h = createHash('sha256').update(dir).digest()
  return `127.${1 + ((h[0] ?? 0) % 254)}.${h[1] ?? 0}`
}

export function routerHost(prefix: string, index: number): string {
  return `${prefix}.${11 + index}`
}
