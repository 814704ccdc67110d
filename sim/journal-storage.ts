import { assert } from '../runtime/assert.ts'
import type { Clock, TimerHandle } from '../runtime/clock.ts'
import { TroupeError } from '../runtime/errors.ts'
import { cloneValue } from '../runtime/journal/codec.ts'
import { SeqTracker, type KeyHead } from '../runtime/journal/seq-tracker.ts'
import { fromSeqSlice, type JournalRecord, type JournalSnapshot, type JournalStorage } from '../runtime/journal/storage.ts'
import { checkRead, ownRecords, ownSnapshot } from '../runtime/journal/validate.ts'
import type { Random } from '../runtime/random.ts'
import { chance, intBetween } from './seed.ts'

/** One write to a journal disk, in the order it was issued. */
type DiskOp =
  | { readonly kind: 'append'; readonly key: string; readonly records: readonly JournalRecord[] }
  | { readonly kind: 'snapshot'; readonly key: string; readonly snapshot: JournalSnapshot }
  | { readonly kind: 'install'; readonly key: string; readonly snapshot: JournalSnapshot }
  | { readonly kind: 'compact'; readonly key: string; readonly uptoSeq: number }

/** One key's journal on a disk: records (never mutated once written), latest snapshot, head. */
interface KeyLog {
  records: JournalRecord[]
  snapshot: JournalSnapshot | undefined
  head: KeyHead
}

/** What a crash did to the writes that were not yet synced. */
export interface CrashOutcome {
  /** Unsynced writes that reached the platter anyway (a prefix of them). */
  readonly kept: number
  /** Unsynced writes lost. */
  readonly lost: number
  /** 1 when the first lost write was half written (recovery drops it by its checksum). */
  readonly torn: number
}

/**
 * A simulated disk holding a host's journal: it outlives the host's incarnations. It keeps two
 * images: the durable one (what survives a power cut) and the page cache (the durable image with
 * every write not yet synced applied on top: what the live process reads). Writes are one ordered
 * log, as in an append-only segment file: `sync(n)` makes the first n unsynced writes durable; a
 * crash keeps a random prefix of the unsynced writes, may tear the next one (a checksummed log's
 * recovery drops a torn tail), and loses the rest.
 */
export class SimJournalDisk {
  /** While true, every write is refused with `StorageFull` before anything reaches the disk (ENOSPC). */
  full = false
  private readonly durable = new Map<string, KeyLog>()
  private cache = new Map<string, KeyLog>()
  private unsynced: DiskOp[] = []

  /** Writes not yet synced. */
  get unsyncedWrites(): number {
    return this.unsynced.length
  }

  /** Issues a write: visible to reads at once, durable after a sync that covers it. */
  write(op: DiskOp): void {
    apply(this.cache, op)
    this.unsynced.push(op)
  }

  /** An fsync completed: the first `n` unsynced writes are durable. */
  sync(n: number): void {
    const done = this.unsynced.splice(0, Math.min(n, this.unsynced.length))
    for (const op of done) apply(this.durable, op)
  }

  /** The page cache's image of `key`. */
  log(key: string): KeyLog | undefined {
    return this.cache.get(key)
  }

  /** Keys with any record, snapshot or history in the page cache. */
  keys(): string[] {
    return [...this.cache.keys()]
  }

  /** Every key's head, for a storage opened on this disk. */
  heads(): Array<[string, KeyHead]> {
    return [...this.cache].map(([key, log]) => [key, { ...log.head }])
  }

  /** The power goes out: a prefix of the unsynced writes is kept, the next may be torn, the rest is lost. */
  crash(random: Random): CrashOutcome {
    const total = this.unsynced.length
    const kept = total === 0 || this.lyingSync ? 0 : intBetween(random, 0, total)
    const torn = kept < total && chance(random, 0.5) ? 1 : 0
    this.sync(kept)
    this.unsynced = []
    this.cache = copyImage(this.durable)
    return { kept, lost: total - kept, torn }
  }

  /** A planted bug for checker demonstrations: every sync is acknowledged, but nothing becomes durable. */
  lyingSync = false
}

function emptyLog(): KeyLog {
  return { records: [], snapshot: undefined, head: { seq: 0, epoch: 0, snapshotSeq: -1, snapshotEpoch: 0 } }
}

function apply(image: Map<string, KeyLog>, op: DiskOp): void {
  let log = image.get(op.key)
  if (log === undefined) {
    log = emptyLog()
    image.set(op.key, log)
  }
  if (op.kind === 'append') {
    log.records.push(...op.records)
    const last = op.records[op.records.length - 1]!
    log.head.seq = last.seq
    log.head.epoch = last.epoch
  } else if (op.kind === 'snapshot') {
    log.snapshot = op.snapshot
    log.head.snapshotSeq = op.snapshot.seq
    log.head.snapshotEpoch = op.snapshot.epoch
  } else if (op.kind === 'install') {
    log.snapshot = op.snapshot
    log.records = []
    log.head = { seq: op.snapshot.seq, epoch: op.snapshot.epoch, snapshotSeq: op.snapshot.seq, snapshotEpoch: op.snapshot.epoch }
  } else {
    log.records = fromSeqSlice(log.records, op.uptoSeq + 1)
  }
}

function copyImage(image: Map<string, KeyLog>): Map<string, KeyLog> {
  return new Map([...image].map(([key, log]) => [key, { records: [...log.records], snapshot: log.snapshot, head: { ...log.head } }]))
}

/** How a journal disk behaves; probabilities in [0, 1], times in simulated ms. */
export interface DiskBehaviour {
  /** Longest latency of a normal fsync or read (0: next timer turn). */
  latencyMsMax: number
  /** Latency range while the disk is slow. */
  slowLatencyMsMin: number
  slowLatencyMsMax: number
  /** Chance a read comes back corrupted (caught by its checksum: `CorruptRecord`). */
  corruptReadProbability: number
}

/**
 * One host incarnation's `JournalStorage` over a `SimJournalDisk`. Every write is checked (the
 * runtime's `SeqTracker`, as every backend does), copied, and issued to the disk at once; its
 * promise resolves when a simulated fsync covering it completes. Group commit: one fsync at a
 * time; writes issued while it runs wait for the next, which starts as soon as it ends. An fsync
 * takes the disk's latency (longer while the disk is slow). Reads see the page cache, after a
 * read latency, and may come back corrupt. A killed storage (its host crashed) never settles
 * anything again and writes nothing.
 */
export class SimJournalStorage implements JournalStorage {
  private readonly disk: SimJournalDisk
  private readonly clock: Clock
  private readonly random: Random
  /** Which key `keysHoldingOldest` names next. */
  private tidyTurn = 0
  private readonly behaviour: DiskBehaviour
  private readonly onCorrupt: (key: string) => void
  private readonly tracker = new SeqTracker()
  /** Resolvers of the issued, unsynced writes, in disk order. */
  private waiters: Array<() => void> = []
  private syncing: TimerHandle | undefined
  private slow = false
  private dead = false
  private closed = false
  /** Fsyncs completed (each covering one batch: group commit). */
  syncs = 0

  constructor(disk: SimJournalDisk, clock: Clock, random: Random, behaviour: DiskBehaviour, onCorrupt: (key: string) => void = () => {}) {
    this.disk = disk
    this.clock = clock
    this.random = random
    this.behaviour = behaviour
    this.onCorrupt = onCorrupt
    assert(disk.unsyncedWrites === 0, 'a journal storage opens on a disk with no unsynced writes (after a clean close or a crash)')
    for (const [key, head] of disk.heads()) this.tracker.restore(key, head)
  }

  /** Makes the disk slow (or normal again). */
  setSlow(slow: boolean): void {
    this.slow = slow
  }

  /** The host crashed: nothing more reaches the disk from this incarnation, and nothing settles. */
  kill(): void {
    this.dead = true
    if (this.syncing !== undefined) this.clock.clearTimeout(this.syncing)
    this.syncing = undefined
    this.waiters = []
  }

  append(key: string, records: readonly JournalRecord[]): Promise<void> {
    return this.write(key, () => {
      const copies = cloneValue(ownRecords(records), key)
      this.tracker.reserveRecords(key, copies)
      this.tracker.commitRecords(key, copies)
      return { kind: 'append', key, records: copies }
    })
  }

  writeSnapshot(key: string, snapshot: JournalSnapshot): Promise<void> {
    return this.write(key, () => {
      const copy = cloneValue(ownSnapshot(snapshot), key)
      this.tracker.reserveSnapshot(key, copy)
      this.tracker.commitSnapshot(key, copy)
      return { kind: 'snapshot', key, snapshot: copy }
    })
  }

  installSnapshot(key: string, snapshot: JournalSnapshot): Promise<void> {
    return this.write(key, () => {
      const copy = cloneValue(ownSnapshot(snapshot), key)
      this.tracker.reserveInstall(key, copy)
      this.tracker.commitInstall(key, copy)
      return { kind: 'install', key, snapshot: copy }
    })
  }

  /**
   * No segments to reclaim here, but the host's rewrites of idle actors (see
   * `JournalStorage.keysHoldingOldest`) must be safe under every fault: one key per idle sweep, in
   * turn, so a run's random draws stay as they were.
   */
  keysHoldingOldest(max: number): string[] {
    const keys = this.disk.keys()
    if (keys.length === 0 || max < 1) return []
    return [keys[this.tidyTurn++ % keys.length]!]
  }

  compact(key: string, uptoSeq: number): Promise<void> {
    return this.write(key, () => {
      this.tracker.checkCompact(key, uptoSeq)
      return { kind: 'compact', key, uptoSeq }
    })
  }

  read(key: string, fromSeq = 0): Promise<JournalRecord[]> {
    try {
      checkRead(key, fromSeq)
    } catch (error) {
      return Promise.reject(error)
    }
    return this.readLater(key, () => structuredClone(fromSeqSlice(this.disk.log(key)?.records ?? [], fromSeq)))
  }

  readSnapshot(key: string): Promise<JournalSnapshot | undefined> {
    try {
      checkRead(key)
    } catch (error) {
      return Promise.reject(error)
    }
    return this.readLater(key, () => {
      const snapshot = this.disk.log(key)?.snapshot
      return snapshot === undefined ? undefined : structuredClone(snapshot)
    })
  }

  async keys(): Promise<string[]> {
    if (this.dead) return never()
    assert(!this.closed, 'journal storage used after close')
    return this.tracker.keys()
  }

  async close(): Promise<void> {
    if (this.dead) return never()
    if (this.waiters.length > 0) {
      const last = this.waiters.length
      await new Promise<void>((resolve) => {
        const previous = this.waiters[last - 1]!
        this.waiters[last - 1] = () => { previous(); resolve() }
      })
    }
    this.closed = true
  }

  /** Checks and issues one write; resolves once a sync covers it. */
  private write(key: string, issue: () => DiskOp): Promise<void> {
    if (this.dead) return never()
    try {
      assert(!this.closed, 'journal storage used after close')
      assert(typeof key === 'string' && key.length > 0, 'journal key must be a non-empty string')
      if (this.disk.full) throw new TroupeError('StorageFull', `journal write failed: ENOSPC (simulated full disk) for ${key}`, { actor: key })
      const op = issue()
      this.disk.write(op)
    } catch (error) {
      return Promise.reject(error)
    }
    return new Promise<void>((resolve) => {
      this.waiters.push(resolve)
      // Writes issued in the same turn of the event loop share one fsync.
      if (this.waiters.length === 1 && this.syncing === undefined) queueMicrotask(() => this.startSync())
    })
  }

  /** Starts an fsync of everything issued so far, unless one is running (group commit). */
  private startSync(): void {
    if (this.syncing !== undefined || this.waiters.length === 0 || this.dead) return
    const batch = this.waiters.length
    this.syncing = this.clock.setTimeout(() => {
      this.syncing = undefined
      if (this.dead) return
      if (!this.disk.lyingSync) this.disk.sync(batch)
      this.syncs++
      const done = this.waiters.splice(0, batch)
      for (const resolve of done) resolve()
      this.startSync()
    }, this.latencyMs())
  }

  private readLater<T>(key: string, read: () => T): Promise<T> {
    if (this.dead) return never()
    try {
      assert(!this.closed, 'journal storage used after close')
    } catch (error) {
      return Promise.reject(error)
    }
    return new Promise<T>((resolve, reject) => {
      this.clock.setTimeout(() => {
        if (this.dead) return
        if (this.closed) return reject(new TroupeError('StorageFailed', 'journal storage closed during a read'))
        if (chance(this.random, this.behaviour.corruptReadProbability) && this.disk.log(key) !== undefined) {
          this.onCorrupt(key)
          return reject(new TroupeError('CorruptRecord', `${key}: a journal record failed its checksum`, { actor: key }))
        }
        resolve(read())
      }, this.latencyMs())
    })
  }

  private latencyMs(): number {
    const b = this.behaviour
    return this.slow ? intBetween(this.random, b.slowLatencyMsMin, b.slowLatencyMsMax) : intBetween(this.random, 0, b.latencyMsMax)
  }
}

/** What a dead process's pending I/O does: never settles. */
function never<T>(): Promise<T> {
  return new Promise<T>(() => {})
}
