/** Running `ip` and `nft`: argv only (no shell), stderr in the error, one stable code. */
import { execFile } from 'node:child_process'
import { PRouterError } from '../../errors.js'

/** Run `file args…` (stdin from `input`); resolves with stdout, rejects with ERR_NETNS naming the command. */
export function run(file: string, args: readonly string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { timeout: 10_000 }, (err, stdout, stderr) => {
      if (err === null) {
        resolve(stdout)
        return
      }
      const what = `${file} ${args.join(' ')}`
      reject(new PRouterError('ERR_NETNS', `${what}: ${stderr.trim() || err.message}`, { cause: err }))
    })
    if (input !== undefined) child.stdin?.end(input)
  })
}

/** `ip -n <ns> …` (or plain `ip …` in this process's own namespace when `ns` is undefined). */
export function ip(ns: string | undefined, ...args: string[]): Promise<string> {
  return run('ip', ns === undefined ? args : ['-n', ns, ...args])
}

/** `ip` arguments that run a command inside the named network namespace (same pid: `ip` execs it). */
export function inNamespace(ns: string): string[] {
  return ['netns', 'exec', ns]
}
