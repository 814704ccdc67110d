import type { Clock } from '../runtime/clock.ts'
import { TroupeError } from '../runtime/errors.ts'
import type { Random } from '../runtime/random.ts'
import type { StateStore } from '../runtime/state-store.ts'
import { formatValue } from './checker/history.ts'
import { chance, intBetween } from './seed.ts'

/** One stored record: the value and the checksum written with it. A torn or corrupt record fails its check. */
interface StoredRecord {
  readonly value: unknown
  readonly checksum: number
}

/** What a crash did to the writes that were not yet synced. */
export interface CrashOutcome {
  readonly lost: number
  readonly kept: number
  readonly torn: number
}

/**
 * A simulated disk that outlives host incarnations: a durable part (synced records, kept as a
 * short per-key log) and a page cache of writes not yet synced. A crash loses each unsynced
 * write, or keeps it, or — for the last one — tears it; recovery drops a torn tail record, as a
 * checksummed log's recovery would, so the previous synced version is what the next host reads.
 */
export class SimDisk {
  private readonly durable = new Map<string, StoredRecord[]>()
  private unsynced: Array<{ key: string; record: StoredRecord }> = []

  /** Writes `value` to the page cache; durable only after `sync`. */
  write(key: string, value: unknown): void {
    const copy = structuredClone(value)
    this.unsynced.push({ key, record: { value: copy, checksum: checksumOf(copy) } })
  }

  /** Makes every write so far durable (an fsync). */
  sync(): void {
    for (const { key, record } of this.unsynced) this.append(key, record)
    this.unsynced = []
  }

  /** The newest record of `key` (page cache first); `undefined` when none. */
  read(key: string): StoredRecord | undefined {
    for (let i = this.unsynced.length - 1; i >= 0; i--) if (this.unsynced[i]!.key === key) return this.unsynced[i]!.record
    const log = this.durable.get(key)
    return log?.[log.length - 1]
  }

  /** Writes not yet synced. */
  get unsyncedWrites(): number {
    return this.unsynced.length
  }

  /** The power goes out: each unsynced write is lost or kept at random, and the last may be torn. */
  crash(random: Random): CrashOutcome {
    let lost = 0, kept = 0, torn = 0
    this.unsynced.forEach(({ key, record }, i) => {
      const last = i === this.unsynced.length - 1
      if (last && chance(random, 0.3)) {
        torn++
        this.append(key, { value: undefined, checksum: record.checksum })
      } else if (chance(random, 0.3)) {
        kept++
        this.append(key, record)
      } else lost++
    })
    this.unsynced = []
    return { lost, kept, torn }
  }

  /** Recovery at start-up: drops torn tail records. Returns how many it dropped. */
  recover(): number {
    let dropped = 0
    for (const log of this.durable.values()) {
      const last = log[log.length - 1]
      if (last !== undefined && checksumOf(last.value) !== last.checksum) {
        log.pop()
        dropped++
      }
    }
    return dropped
  }

  private append(key: string, record: StoredRecord): void {
    const log = this.durable.get(key) ?? []
    log.push(record)
    if (log.length > 2) log.shift()
    this.durable.set(key, log)
  }
}

/** How a host's disk behaves; probabilities in [0, 1], times in ms. */
export interface DiskBehaviour {
  /** Longest latency of a normal read or write (0 = synchronous). */
  latencyMsMax: number
  /** Latency range while the disk is slow. */
  slowLatencyMsMin: number
  slowLatencyMsMax: number
  /** Chance a read comes back corrupted (caught by its checksum: `CorruptRecord`). */
  corruptReadProbability: number
  /** A planted bug for checker demonstrations: every n-th save is silently dropped (0 = off). */
  dropEverySave: number
}

/**
 * One host incarnation's `StateStore` over a `SimDisk`: `save` writes, then syncs after the disk's
 * latency (the promise settles at the sync point); `load` reads after the latency and checks the
 * checksum. A killed store (its host crashed) ignores everything.
 */
export class SimStore implements StateStore {
  private readonly disk: SimDisk
  private readonly clock: Clock
  private readonly random: Random
  private readonly behaviour: DiskBehaviour
  private readonly onCorrupt: (key: string) => void
  private slow = false
  private dead = false
  private saves = 0

  constructor(disk: SimDisk, clock: Clock, random: Random, behaviour: DiskBehaviour, onCorrupt: (key: string) => void) {
    this.disk = disk
    this.clock = clock
    this.random = random
    this.behaviour = behaviour
    this.onCorrupt = onCorrupt
  }

  /** Makes the disk slow (or normal again). */
  setSlow(slow: boolean): void {
    this.slow = slow
  }

  /** The host crashed: nothing more reaches the disk from this incarnation. */
  kill(): void {
    this.dead = true
  }

  load(key: string): unknown {
    const latencyMs = this.latencyMs()
    if (latencyMs === 0) return this.readNow(key)
    return new Promise((resolve, reject) => {
      this.clock.setTimeout(() => {
        try {
          resolve(this.readNow(key))
        } catch (error) {
          reject(error)
        }
      }, latencyMs)
    })
  }

  save(key: string, state: unknown): void | Promise<void> {
    if (this.dead) return
    const drop = this.behaviour.dropEverySave
    if (drop > 0 && ++this.saves % drop === 0) return // the planted bug: acknowledged, never written
    this.disk.write(key, state)
    const latencyMs = this.latencyMs()
    if (latencyMs === 0) {
      this.disk.sync()
      return
    }
    return new Promise((resolve) => {
      this.clock.setTimeout(() => {
        if (!this.dead) this.disk.sync()
        resolve()
      }, latencyMs)
    })
  }

  private readNow(key: string): unknown {
    const record = this.disk.read(key)
    if (record === undefined) return undefined
    if (chance(this.random, this.behaviour.corruptReadProbability) || checksumOf(record.value) !== record.checksum) {
      this.onCorrupt(key)
      throw new TroupeError('CorruptRecord', `${key}: the stored state failed its checksum`, { actor: key })
    }
    return structuredClone(record.value)
  }

  private latencyMs(): number {
    const b = this.behaviour
    return this.slow ? intBetween(this.random, b.slowLatencyMsMin, b.slowLatencyMsMax) : intBetween(this.random, 0, b.latencyMsMax)
  }
}

/** FNV-1a over the value's canonical rendering; `undefined` (a torn record) never matches a real one. */
function checksumOf(value: unknown): number {
  if (value === undefined) return -1
  const text = formatValue(value)
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193)
  return h >>> 0
}
