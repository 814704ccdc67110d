import type { JournalFile, JournalFs } from '../../runtime/journal/journal-fs.ts'
import { nextInt, type Random } from '../../runtime/random.ts'

/** One file operation the disk may not have made durable yet. */
type PendingOp = { kind: 'write'; at: number; data: Uint8Array } | { kind: 'truncate'; length: number }

interface CrashFile {
  /** What reads see now. */
  current: Uint8Array
  /** What survives a crash for sure (as of the last sync). */
  durable: Uint8Array
  /** Operations since the last sync, in order: a crash keeps a prefix of them, the next one maybe torn. */
  pending: PendingOp[]
}

function apply(bytes: Uint8Array, op: PendingOp): Uint8Array {
  if (op.kind === 'truncate') return grow(bytes, op.length)
  const out = grow(bytes, Math.max(bytes.byteLength, op.at + op.data.byteLength))
  out.set(op.data, op.at)
  return out
}

/** `bytes` cut or zero-extended to `length`. */
function grow(bytes: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length)
  out.set(bytes.subarray(0, length))
  return out
}

/** The sector size: a torn write keeps or loses whole sectors. */
const sectorBytes = 512

/**
 * A file system in memory that knows what a crash would keep: each file's durable bytes (as of
 * its last `datasync`) and the operations since, and which names a directory sync made durable.
 * `crashImage()` draws one state a power cut could leave: per file, the durable bytes plus a
 * prefix of its pending operations, the next one torn (cut short, not written at all, or only
 * its later sectors written); a file created since the last directory sync may be missing, and one
 * deleted since may be back. With `failOneWriteIn`, writes fail now and then (ENOSPC, part of
 * the data written); with `failOneSyncIn`, syncs (EIO, nothing made durable). `onOp` runs before every operation, so a test can take crash
 * images at every point of a workload.
 */
export class CrashFs {
  private readonly files = new Map<string, CrashFile>()
  /** Names as of the last directory sync, with the bytes a resurrected file would hold. */
  private durableNames = new Set<string>()
  private readonly unlinked = new Map<string, Uint8Array>()
  onOp: (what: string) => void = () => {}
  /** One write in this many (0: none) fails with ENOSPC after writing part of its data: a disk that fills up now and then. */
  failOneWriteIn = 0
  /** One datasync in this many (0: none) fails with EIO, making nothing durable (what it was to flush may or may not reach the disk). */
  failOneSyncIn = 0

  constructor(private readonly random: Random, image?: ReadonlyMap<string, Uint8Array>) {
    for (const [name, bytes] of image ?? []) {
      this.files.set(name, { current: bytes, durable: bytes, pending: [] })
      this.durableNames.add(name)
    }
  }

  /** Every file as it reads now (a clean shutdown). */
  currentImage(): Map<string, Uint8Array> {
    return new Map([...this.files].map(([name, f]) => [name, f.current]))
  }

  /** One state a crash now could leave on disk. */
  crashImage(): Map<string, Uint8Array> {
    const image = new Map<string, Uint8Array>()
    for (const [name, f] of this.files) {
      if (!this.durableNames.has(name) && nextInt(this.random, 2) === 0) continue
      let bytes = f.durable
      const kept = nextInt(this.random, f.pending.length + 1)
      for (let i = 0; i < kept; i++) bytes = apply(bytes, f.pending[i]!)
      const torn = f.pending[kept]
      if (torn?.kind === 'write') bytes = this.tear(bytes, torn)
      image.set(name, bytes)
    }
    for (const [name, bytes] of this.unlinked) if (this.durableNames.has(name) && nextInt(this.random, 2) === 0) image.set(name, bytes)
    return image
  }

  /**
   * What a crash in the middle of a write leaves of `bytes`: a prefix of the data written; or
   * none of it, with the file grown to its end (zeros where it was not before); or its later
   * sectors only (unwritten sectors keep what they held, zeros past the old end).
   */
  private tear(bytes: Uint8Array, op: { at: number; data: Uint8Array }): Uint8Array {
    const mode = nextInt(this.random, 3)
    if (mode === 0) return apply(bytes, { kind: 'write', at: op.at, data: op.data.subarray(0, nextInt(this.random, op.data.byteLength + 1)) })
    const out = grow(bytes, Math.max(bytes.byteLength, op.at + op.data.byteLength))
    if (mode === 1) return out
    const from = Math.max(0, Math.floor((op.at + nextInt(this.random, op.data.byteLength + 1)) / sectorBytes) * sectorBytes - op.at)
    out.set(op.data.subarray(from), op.at + from)
    return out
  }

  fs(): JournalFs {
    const name = (path: string): string => path.split('/').pop()!
    return {
      mkdir: async () => {},
      list: async () => { this.onOp('list'); return [...this.files.keys()] },
      readFile: async (path) => {
        this.onOp('read')
        const f = this.files.get(name(path))
        if (f === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' })
        return Uint8Array.from(f.current)
      },
      openForWrite: async (path) => {
        this.onOp('open')
        const n = name(path)
        if (!this.files.has(n)) this.files.set(n, { current: new Uint8Array(0), durable: new Uint8Array(0), pending: [] })
        this.unlinked.delete(n)
        return this.file(n)
      },
      unlink: async (path) => {
        this.onOp('unlink')
        const n = name(path)
        const f = this.files.get(n)
        if (f !== undefined) this.unlinked.set(n, f.durable)
        this.files.delete(n)
      },
      syncDir: async () => {
        this.onOp('syncDir')
        this.durableNames = new Set(this.files.keys())
        this.unlinked.clear()
      },
    }
  }

  private file(n: string): JournalFile {
    const f = (): CrashFile => this.files.get(n)!
    const push = (op: PendingOp): void => {
      f().current = apply(f().current, op)
      f().pending.push(op)
    }
    const write = (data: Uint8Array, at: number): void => {
      if (this.failOneWriteIn > 0 && nextInt(this.random, this.failOneWriteIn) === 0) {
        push({ kind: 'write', at, data: data.slice(0, nextInt(this.random, data.byteLength)) })
        throw Object.assign(new Error('ENOSPC: no space left on device (injected)'), { code: 'ENOSPC' })
      }
      push({ kind: 'write', at, data: Uint8Array.from(data) })
    }
    const sync = (): void => {
      if (this.failOneSyncIn > 0 && nextInt(this.random, this.failOneSyncIn) === 0) {
        throw Object.assign(new Error('EIO: i/o error (injected)'), { code: 'EIO' })
      }
      f().durable = f().current
      f().pending = []
    }
    return {
      write: async (data, at) => { this.onOp('write'); write(data, at) },
      datasync: async () => { this.onOp('datasync'); sync() },
      truncate: async (length) => { this.onOp('truncate'); push({ kind: 'truncate', length }) },
      preallocate: async (at, length) => {
        this.onOp('preallocate')
        write(new Uint8Array(length), at)
        await Promise.resolve()
        this.onOp('preallocate sync')
        sync()
      },
      close: async () => {},
      blocking: {
        write: (data, at) => { this.onOp('blocking write'); write(data, at) },
        datasync: () => { this.onOp('blocking datasync'); sync() },
      },
    }
  }
}
