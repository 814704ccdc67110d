/**
 * One cluster per data directory. Two clusters on one dataDir (two `npm start`s, a supervisor
 * started twice) would write the same journal segments and lose acknowledged writes; the second
 * `Cluster.start` is refused with `InvalidArgument` before it spawns a host. A lock left by a
 * process that is gone is taken over; `stop()` releases the lock.
 */
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { Cluster, isTroupeError } from '../../index.ts'
import { lockDataDir, lockFileName } from '../../runtime/node/data-dir-lock.ts'

const actors = new URL('../fixtures/durable/actors.js', import.meta.url)

let dataDir: string
beforeEach(() => { dataDir = mkdtempSync(join(tmpdir(), 'troupe-lock-')) })
afterEach(() => rmSync(dataDir, { recursive: true, force: true }))

const lockPath = (): string => join(dataDir, lockFileName)
const bootId = (): string | undefined => { try { return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() } catch { return undefined } }

/** A lock file's content as another process would have written it. */
function lockOf(owner: { pid: number; hostname?: string; bootId?: string }): string {
  return JSON.stringify({ hostname: hostname(), bootId: bootId(), nonce: 'theirs', startedAt: '2026-01-01T00:00:00Z', ...owner })
}

function age(path: string): void {
  const old = new Date(Date.now() - 60_000)
  utimesSync(path, old, old)
}

/** The pid of a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' })
  return Number(child.stdout.trim())
}

function expectRefused(run: () => unknown, pattern: RegExp): void {
  let error: unknown
  try { run() } catch (e) { error = e }
  expect(isTroupeError(error, 'InvalidArgument'), String(error)).toBe(true)
  expect(String(error)).toMatch(pattern)
}

describe('the data directory lock', () => {
  test('is taken once: a second taker is refused and told who holds it; released, it can be taken again', () => {
    const lock = lockDataDir(dataDir)
    expect(JSON.parse(readFileSync(lockPath(), 'utf8'))).toMatchObject({ pid: process.pid, hostname: hostname() })
    expectRefused(() => lockDataDir(dataDir), new RegExp(`in use by process ${process.pid} on `))
    lock.release()
    lock.release() // a second release does nothing
    expect(existsSync(lockPath())).toBe(false)
    lockDataDir(dataDir).release()
  })

  test('held by this process, it is refused through a symlink to the directory too', () => {
    const link = `${dataDir}-link`
    symlinkSync(dataDir, link)
    try {
      const lock = lockDataDir(dataDir)
      expectRefused(() => lockDataDir(link), new RegExp(`in use by process ${process.pid} on `))
      lock.release()
      lockDataDir(link).release()
      expect(existsSync(lockPath())).toBe(false)
    } finally {
      rmSync(link)
    }
  })

  test('left by a process that is gone, it is taken over', () => {
    writeFileSync(lockPath(), lockOf({ pid: deadPid() }))
    const lock = lockDataDir(dataDir)
    expect(JSON.parse(readFileSync(lockPath(), 'utf8')).pid).toBe(process.pid)
    lock.release()
  })

  test('left by a process killed and not yet reaped by its parent (a zombie), it is taken over', async () => {
    // The shell forks a child, then becomes a sleep that never waits for it: killed, the child stays
    // a zombie. The child says its pid only once its parent is surely a sleep (a shell that had not
    // exec'd yet would reap it).
    const parent = spawn('sh', ['-c', 'sh -c "sleep 0.2; echo \\$\\$; exec sleep 60" & exec sleep 60'], { stdio: ['ignore', 'pipe', 'ignore'] })
    try {
      const pid = await new Promise<number>((resolve) => parent.stdout.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim()))))
      process.kill(pid, 'SIGKILL')
      // Killed before or after it became `sleep` (the fork may not have exec'd yet): either name.
      const zombie = (): boolean => { try { return /^\d+ \((sleep|sh|dash|bash)\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8')) } catch { return false } }
      for (let i = 0; i < 500 && !zombie(); i++) await new Promise((resolve) => setTimeout(resolve, 10))
      expect(zombie()).toBe(true)
      writeFileSync(lockPath(), lockOf({ pid }))
      const lock = lockDataDir(dataDir)
      expect(JSON.parse(readFileSync(lockPath(), 'utf8')).pid).toBe(process.pid)
      lock.release()
    } finally {
      parent.kill('SIGKILL')
    }
  })

  test('held by a live process, or by one on another machine, it is refused', () => {
    writeFileSync(lockPath(), lockOf({ pid: process.ppid }))
    expectRefused(() => lockDataDir(dataDir), new RegExp(`process ${process.ppid}`))
    writeFileSync(lockPath(), lockOf({ pid: deadPid(), hostname: 'elsewhere.example' }))
    expectRefused(() => lockDataDir(dataDir), /on elsewhere\.example/)
  })

  test('naming this process\'s pid without being held by it (a restarted container\'s pid 1), it is taken over', () => {
    writeFileSync(lockPath(), lockOf({ pid: process.pid }))
    const lock = lockDataDir(dataDir)
    expect(JSON.parse(readFileSync(lockPath(), 'utf8')).nonce).not.toBe('theirs')
    lock.release()
  })

  test('left before a reboot (another boot id), it is taken over even if its pid runs now; without boot ids, the live pid keeps it', () => {
    writeFileSync(lockPath(), lockOf({ pid: process.ppid, bootId: 'an-earlier-boot' }))
    if (bootId() !== undefined) lockDataDir(dataDir).release() // Linux: the boot id tells
    else expectRefused(() => lockDataDir(dataDir), new RegExp(`process ${process.ppid}`))
  })

  test('two takers of one stale lock: while one holds the takeover file, the other is refused', () => {
    writeFileSync(lockPath(), lockOf({ pid: deadPid() }))
    const takeover = join(dataDir, 'LOCK.takeover')
    writeFileSync(takeover, '')
    expectRefused(() => lockDataDir(dataDir), /is being taken over by another process/)
    expect(JSON.parse(readFileSync(lockPath(), 'utf8')).nonce).toBe('theirs') // untouched
    age(takeover) // its taker crashed long ago
    lockDataDir(dataDir).release()
    expect(existsSync(takeover)).toBe(false)
  })

  test('a lock this process cannot read is refused, however old', () => {
    mkdirSync(lockPath()) // reading it fails (EISDIR), as a lock of another user would (EACCES)
    age(lockPath())
    expectRefused(() => lockDataDir(dataDir), /its lock cannot be read/)
  })

  test('a lock file nobody finished writing is refused while fresh, taken over once old', () => {
    for (const garbage of ['', '{"pid":', 'null', '{"pid":"7"}']) {
      writeFileSync(lockPath(), garbage)
      expectRefused(() => lockDataDir(dataDir), /in use by another process/)
      age(lockPath())
      lockDataDir(dataDir).release()
    }
  })

  test('a release does not remove a lock another process took over meanwhile', () => {
    const lock = lockDataDir(dataDir)
    const other = lockOf({ pid: process.ppid })
    writeFileSync(lockPath(), other)
    lock.release()
    expect(readFileSync(lockPath(), 'utf8')).toBe(other)
  })

  test('a second cluster on the same dataDir is refused until the first stops', async () => {
    const first = await Cluster.start({ actors, hosts: 1, dataDir })
    try {
      await first.call('Counter/a', 'increment', [5])
      await expect(Cluster.start({ actors, hosts: 1, dataDir })).rejects.toSatisfy((e: unknown) =>
        isTroupeError(e, 'InvalidArgument') && /is in use by process/.test(String(e)))
      expect(await first.call('Counter/a', 'get', [])).toBe(5) // the first is untouched
    } finally {
      await first.stop()
    }
    expect(existsSync(lockPath())).toBe(false)
    const second = await Cluster.start({ actors, hosts: 1, dataDir })
    try {
      expect(await second.call('Counter/a', 'get', [])).toBe(5)
    } finally {
      await second.stop()
    }
  })
})
