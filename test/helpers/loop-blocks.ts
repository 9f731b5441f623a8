/**
 * How long the event loop was kept from turning, two ways: wall time between ticks of a 5 ms timer (what
 * `monitorEventLoopDelay` also sees, and what a loaded machine inflates when it deschedules the process),
 * and the process's CPU time between the same ticks (what synchronous work really held the loop for).
 */
export interface LoopBlocks {
  /** Longest wall-time gap between two ticks, less the 5 ms interval (ms). */
  maxWallMs: number
  /** Most CPU time the process used between two ticks (ms): the longest synchronous stretch, roughly. */
  maxCpuMs: number
}

export function watchLoopBlocks(): { stop: () => LoopBlocks } {
  const interval = 5
  let lastWall = performance.now()
  let lastCpu = process.cpuUsage()
  const result: LoopBlocks = { maxWallMs: 0, maxCpuMs: 0 }
  const timer = setInterval(() => {
    const wall = performance.now()
    const cpu = process.cpuUsage(lastCpu)
    result.maxWallMs = Math.max(result.maxWallMs, wall - lastWall - interval)
    result.maxCpuMs = Math.max(result.maxCpuMs, (cpu.user + cpu.system) / 1000)
    lastWall = wall
    lastCpu = process.cpuUsage()
  }, interval)
  return {
    stop: () => {
      clearInterval(timer)
      return result
    },
  }
}
