/**
 * Running the PRouter image with podman in tests (test/container/). Every call names podman's cgroup manager
 * and events backend (cgroupfs, a file), so it runs the same with or without systemd and inside the network
 * namespace of scripts/isolated.sh. The OCI runtime is whichever of crun and runc starts a container here
 * (`pickRuntime`): crun refuses hosts with cgroup v1 and v2 mounted together. Limits are given explicitly,
 * below the host's: by default podman asks for more than a process without CAP_SYS_RESOURCE may set.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { readFile } from 'node:fs/promises'
import { createInterface } from 'node:readline'

const GLOBAL = ['--cgroup-manager=cgroupfs', '--events-backend=file']
export const LIMITS = ['--ulimit', 'nofile=16384:16384', '--ulimit', 'nproc=4096:4096']

export interface Podman {
  /** Global flags, the runtime included. */
  readonly flags: readonly string[]
  readonly runtime: string
}

export interface CommandResult {
  code: number
  stdout: string
  stderr: string
}

/** `podman <args>`, bounded; never throws on a non-zero exit (the caller asserts on `code`). */
export function podman(p: Podman | null, args: readonly string[], timeout = 120_000): Promise<CommandResult> {
  const argv = [...(p?.flags ?? GLOBAL), ...args]
  return new Promise((resolve) => {
    execFile('podman', argv, { timeout, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1
      resolve({ code, stdout, stderr })
    })
  })
}

/** The first OCI runtime, of podman's default and runc, that runs `true` in `image`. */
export async function pickRuntime(image: string): Promise<Podman> {
  const tried: string[] = []
  for (const runtime of ['', 'runc']) {
    const p = { flags: runtime === '' ? GLOBAL : [...GLOBAL, `--runtime=${runtime}`], runtime }
    const r = await podman(p, ['run', '--rm', ...LIMITS, '--entrypoint', 'true', image])
    if (r.code === 0) return { ...p, runtime: runtime === '' ? 'default' : runtime }
    tried.push(`${runtime === '' ? 'default' : runtime}: ${r.stderr.trim().split('\n').pop() ?? ''}`)
  }
  throw new Error(`no OCI runtime starts a container here:\n${tried.join('\n')}`)
}

/** The image's user id, as deploy/container/Containerfile sets it. */
export async function imageUid(): Promise<number> {
  const text = await readFile('deploy/container/Containerfile', 'utf8')
  const uid = /^ARG PROUTER_UID=(\d+)$/m.exec(text)?.[1]
  if (uid === undefined) throw new Error('deploy/container/Containerfile sets no PROUTER_UID')
  return Number(uid)
}

export interface Attached {
  child: ChildProcess
  ready: Record<string, unknown>
  stderr: string[]
  exited: Promise<[number | null, NodeJS.Signals | null]>
}

/** `podman run` attached (its exit code is the container's); resolves with the daemon's JSON ready line. */
export async function runAttached(p: Podman, args: readonly string[], timeout: number): Promise<Attached> {
  const child = spawn('podman', [...p.flags, 'run', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>
  const stderr: string[] = []
  createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', (l) => {
    stderr.push(l)
    if (stderr.length > 200) stderr.shift()
  })
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })
  const timer = setTimeout(() => child.kill('SIGKILL'), timeout)
  try {
    for await (const line of lines) {
      const parsed = parseJson(line)
      if (parsed?.ready === true) return { child, ready: parsed, stderr, exited }
    }
  } finally {
    clearTimeout(timer)
  }
  throw new Error(`the container exited before it was ready:\n${stderr.slice(-40).join('\n')}`)
}

function parseJson(line: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(line) as Record<string, unknown>
  } catch {
    return undefined
  }
}
