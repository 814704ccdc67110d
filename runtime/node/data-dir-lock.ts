import { closeSync, openSync, readFileSync, realpathSync, statSync, unlinkSync, writeSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { TroupeError } from '../errors.ts'
import { randomId, systemRandom } from '../random.ts'

/** The lock file's name in a cluster's data directory. */
export const lockFileName = 'LOCK'

/** Held while a stale lock is replaced, so two processes cannot both take it over. */
const takeoverFileName = 'LOCK.takeover'

/** A lock (or takeover) file whose owner never wrote it is taken over after this long (a crash between create and write). */
const unwrittenStaleMs = 10_000

interface LockOwner {
  pid: number
  hostname: string
  /** This boot of the machine (Linux), so a pid recorded before a reboot is not mistaken for a live one. */
  bootId: string | undefined
  /** Unique to one taking of the lock: a later process with the same pid (a restarted container's pid 1) is not its owner. */
  nonce: string
  startedAt: string
}

/** What a lock file holds: its owner, nothing readable yet (being written, or a crash), or a file we may not read. */
type LockContent = { owner: LockOwner } | { unwritten: true } | { unreadable: string }

/** Releases a data directory's lock (once; later calls do nothing). */
export interface DataDirLock {
  release(): void
}

/** Locks this process holds, by path, with their nonces; an exit releases them (a SIGKILL cannot: see `isStale`). */
const held = new Map<string, string>()
let exitHookInstalled = false

/**
 * Takes `dataDir`'s lock for this process, or throws `InvalidArgument` naming the process that
 * holds it. Two clusters writing one data directory (two `npm start`s, a supervisor started
 * twice) would interleave writes to the same journal segments and lose acknowledged writes, so
 * the second is refused before it spawns a host. A lock left by a process that is gone from this
 * machine (killed, or from before a reboot) is taken over, by one process at a time.
 */
export function lockDataDir(dataDir: string): DataDirLock {
  // By its real path: this process's locks are known by path, and a symlink to a directory it
  // holds must find its lock held, not stale.
  const path = join(realDir(dataDir), lockFileName)
  if (!create(path)) {
    if (!isStale(path, readLock(path))) throw inUse(dataDir, path, readLock(path))
    const taken = takeOver(dataDir, path)
    if (taken === 'busy') throw new TroupeError('InvalidArgument', `options.dataDir: ${dataDir} is being taken over by another process starting on it`)
    if (taken === 'lost') throw inUse(dataDir, path, readLock(path))
  }
  installExitHook()
  let released = false
  return {
    release() {
      if (released) return
      released = true
      removeIfOurs(path)
      held.delete(path)
    },
  }
}

/** Creates the lock file with this process as its owner; false when it exists. */
function create(path: string): boolean {
  let fd: number
  try {
    fd = openSync(path, 'wx')
  } catch (error) {
    if ((error as { code?: unknown }).code === 'EEXIST') return false
    throw new TroupeError('InvalidArgument', `options.dataDir: cannot lock ${path}: ${(error as Error).message}`)
  }
  const owner: LockOwner = { pid: process.pid, hostname: hostname(), bootId: bootId(), nonce: randomId(systemRandom, 2), startedAt: new Date().toISOString() }
  try { writeSync(fd, JSON.stringify(owner)) } finally { closeSync(fd) }
  held.set(path, owner.nonce)
  return true
}

/**
 * Replaces a stale lock, holding the takeover file meanwhile: of two processes that both found
 * the lock stale, one gets the takeover file, judges the lock again and replaces it; the other is
 * refused: `busy` while another process is taking over, `lost` when one took the lock first.
 */
function takeOver(dataDir: string, path: string): 'taken' | 'busy' | 'lost' {
  const takeover = join(dataDir, takeoverFileName)
  let fd: number
  try {
    fd = openSync(takeover, 'wx')
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'EEXIST') return 'lost'
    // A takeover file left by a process that crashed inside its takeover: old, so gone.
    if (!olderThan(takeover, unwrittenStaleMs)) return 'busy'
    try { unlinkSync(takeover) } catch { return 'busy' }
    try { fd = openSync(takeover, 'wx') } catch { return 'busy' }
  }
  try {
    if (!isStale(path, readLock(path))) return 'lost'
    try { unlinkSync(path) } catch (error) { if ((error as { code?: unknown }).code !== 'ENOENT') return 'lost' }
    return create(path) ? 'taken' : 'lost'
  } finally {
    closeSync(fd)
    try { unlinkSync(takeover) } catch { /* gone already */ }
  }
}

function realDir(dataDir: string): string {
  try { return realpathSync(dataDir) } catch { return dataDir }
}

function readLock(path: string): LockContent {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    const code = (error as { code?: unknown }).code
    if (code === 'ENOENT') return { unwritten: true }
    return { unreadable: (error as Error).message }
  }
  try {
    const value = JSON.parse(text) as Partial<LockOwner> | null
    if (typeof value?.pid === 'number' && typeof value.hostname === 'string' && typeof value.nonce === 'string' && typeof value.startedAt === 'string') {
      return { owner: { pid: value.pid, hostname: value.hostname, bootId: typeof value.bootId === 'string' ? value.bootId : undefined, nonce: value.nonce, startedAt: value.startedAt } }
    }
  } catch { /* not JSON: not written yet, or cut short by a crash */ }
  return { unwritten: true }
}

/**
 * Whether the lock's owner is gone: a process of this machine that no longer runs (or is a
 * zombie), ran before the last reboot, or had this process's pid without being this process; or a lock never written
 * that is old. A lock we may not read, or one from another machine, is never judged stale.
 */
function isStale(path: string, content: LockContent): boolean {
  if ('unreadable' in content) return false
  if ('unwritten' in content) return olderThan(path, unwrittenStaleMs)
  const { owner } = content
  if (owner.hostname !== hostname()) return false
  const boot = bootId()
  if (boot !== undefined && owner.bootId !== undefined && owner.bootId !== boot) return true
  if (owner.pid === process.pid) return held.get(path) !== owner.nonce
  try {
    process.kill(owner.pid, 0)
  } catch (error) {
    return (error as { code?: unknown }).code === 'ESRCH'
  }
  // A process killed but not yet reaped by its parent (a zombie) still answers a signal, but
  // holds no file: a restart right after a SIGKILL must not be refused until the parent waits.
  return isZombie(owner.pid)
}

/** Whether process `pid` has exited and awaits its parent's wait (Linux, from /proc); false where that cannot be read. */
function isZombie(pid: number): boolean {
  let stat: string
  try { stat = readFileSync(`/proc/${pid}/stat`, 'utf8') } catch { return false }
  // `pid (comm) state ...`: comm may hold spaces and parentheses, so the state follows the last ')'.
  const state = stat.charAt(stat.lastIndexOf(')') + 2)
  return state === 'Z' || state === 'X'
}

function olderThan(path: string, ms: number): boolean {
  try { return Date.now() - statSync(path).mtimeMs > ms } catch { return true }
}

function inUse(dataDir: string, path: string, content: LockContent): TroupeError {
  const who = 'owner' in content ? `process ${content.owner.pid} on ${content.owner.hostname} (since ${content.owner.startedAt})`
    : 'unreadable' in content ? `another user or process (its lock cannot be read: ${content.unreadable})` : 'another process'
  return new TroupeError('InvalidArgument', `options.dataDir: ${dataDir} is in use by ${who}; stop that cluster first, or remove ${path} if it is gone`)
}

/** Removes the lock if this process still holds it (a takeover may have replaced it). */
function removeIfOurs(path: string): void {
  const content = readLock(path)
  if (!('owner' in content) || content.owner.nonce !== held.get(path)) return
  try { unlinkSync(path) } catch { /* already gone */ }
}

let boot: string | null | undefined
/** This boot's id on Linux, else undefined. */
function bootId(): string | undefined {
  if (boot === undefined) {
    try { boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || null } catch { boot = null }
  }
  return boot ?? undefined
}

function installExitHook(): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.on('exit', () => { for (const path of held.keys()) removeIfOurs(path) })
}
