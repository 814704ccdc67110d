import { closeSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { TroupeError } from '../errors.ts'

/** The lock file's name in a cluster's data directory. */
export const lockFileName = 'LOCK'

/** A lock file whose owner never wrote it is taken over after this long (a crash between create and write). */
const unwrittenStaleMs = 10_000

interface LockOwner {
  pid: number
  hostname: string
  startedAt: string
}

/** Releases a data directory's lock (once; later calls do nothing). */
export interface DataDirLock {
  release(): void
}

/** Locks held by this process, so an exit releases them (a SIGKILL cannot: see `isStale`). */
const held = new Set<string>()
let exitHookInstalled = false

/**
 * Takes `dataDir`'s lock for this process, or throws `InvalidArgument` naming the process that
 * holds it. Two clusters writing one data directory (two `npm start`s, a supervisor started
 * twice) would interleave writes to the same journal segments and lose acknowledged writes, so
 * the second is refused before it spawns a host. A lock left by a process that is gone (killed)
 * on this machine is taken over.
 */
export function lockDataDir(dataDir: string): DataDirLock {
  const path = join(dataDir, lockFileName)
  for (let attempt = 0; ; attempt++) {
    let fd: number
    try {
      fd = openSync(path, 'wx')
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'EEXIST') {
        throw new TroupeError('InvalidArgument', `options.dataDir: cannot lock ${dataDir}: ${(error as Error).message}`)
      }
      const owner = readOwner(path)
      if (attempt === 0 && isStale(path, owner)) {
        try { unlinkSync(path) } catch { /* another process took it over first: the next attempt sees its lock */ }
        continue
      }
      const who = owner === undefined ? 'another process' : `process ${owner.pid} on ${owner.hostname} (since ${owner.startedAt})`
      throw new TroupeError('InvalidArgument',
        `options.dataDir: ${dataDir} is in use by ${who}; stop that cluster first, or remove ${path} if it is gone`)
    }
    const owner: LockOwner = { pid: process.pid, hostname: hostname(), startedAt: new Date().toISOString() }
    try { writeSync(fd, JSON.stringify(owner)) } finally { closeSync(fd) }
    held.add(path)
    installExitHook()
    let released = false
    return {
      release() {
        if (released) return
        released = true
        held.delete(path)
        removeIfOurs(path)
      },
    }
  }
}

function readOwner(path: string): LockOwner | undefined {
  try {
    const value = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockOwner> | null
    if (typeof value?.pid === 'number' && typeof value.hostname === 'string' && typeof value.startedAt === 'string') {
      return { pid: value.pid, hostname: value.hostname, startedAt: value.startedAt }
    }
  } catch { /* unreadable or not JSON: judged by its age */ }
  return undefined
}

/** Whether the lock's owner is gone: a process of this machine that no longer runs, or a lock never written long ago. */
function isStale(path: string, owner: LockOwner | undefined): boolean {
  if (owner === undefined) {
    try { return Date.now() - statSync(path).mtimeMs > unwrittenStaleMs } catch { return true }
  }
  if (owner.hostname !== hostname() || owner.pid === process.pid) return false
  try {
    process.kill(owner.pid, 0)
    return false
  } catch (error) {
    return (error as { code?: unknown }).code === 'ESRCH'
  }
}

function removeIfOurs(path: string): void {
  const owner = readOwner(path)
  if (owner?.pid !== process.pid || owner.hostname !== hostname()) return
  try { unlinkSync(path) } catch { /* already gone */ }
}

function installExitHook(): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.on('exit', () => { for (const path of held) removeIfOurs(path) })
}
