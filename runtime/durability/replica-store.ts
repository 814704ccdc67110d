import type { JournalRecord, JournalSnapshot, JournalStorage } from '../journal/storage.ts'
import { applyPatch, type Patch } from '../state/index.ts'
import { TroupeError } from '../errors.ts'
import type { HostId } from '../view.ts'
import { RequestTable, type RequestEntries } from './request-table.ts'
import { applyReminderOps, splitPatch, type ReminderEntries, type ReminderTable } from './reminders.ts'

/** A whole actor as shipped to a backup that must catch up: state and request table as of `seq`. */
export interface ShippedSnapshot {
  seq: number
  epoch: number
  state: unknown
  requests: RequestEntries
  reminders?: ReminderEntries
}

/** What a journal snapshot holds for one actor. */
export interface StoredSnapshot {
  state: unknown
  requests: RequestEntries
  reminders?: ReminderEntries
}

/** A backup's copy of one actor: its journal position, a warm state, its request table and reminders. */
export interface Replica {
  key: string
  seq: number
  epoch: number
  state: unknown
  requests: RequestTable
  reminders: ReminderTable
}

/** How a backup answers a shipment: `ok` (holds everything up to seq), `resync` (send a snapshot), `stale` (fenced). */
export type AckStatus = 'ok' | 'resync' | 'stale'

export interface ReplicaStoreOptions {
  storage: JournalStorage
  requestsMax: number
  /** Snapshot the local journal (and compact behind it) every this many records. */
  snapshotEveryRecords: number
  /** The backup's newest view epoch (fencing). */
  viewEpoch(): number
  /** Sends an acknowledgement back to the primary. */
  ack(to: HostId, key: string, seq: number, status: AckStatus): void
  /** The journal refused a write (the host checks whether it is broken for good). */
  storageFailed?(): void
}

/**
 * The backup side of replication: applies shipped records in order to the local journal and to a
 * warm state (ready for a takeover without replay), fences records from older epochs, and asks the
 * primary for a snapshot when it finds a gap or a conflicting history.
 */
export class ReplicaStore {
  private readonly options: ReplicaStoreOptions
  /** Replicas loaded or being loaded here. */
  private readonly replicas = new Map<string, Promise<Replica>>()
  /** The same replicas once loaded: a shipment of records for one of them is applied at once. */
  private readonly warm = new Map<string, Replica>()
  /** Keys shipped to since the last `dropIdle`. */
  private readonly shippedSince = new Set<string>()
  /** Per key: work before the next shipment may be looked at (loading the copy, installing a snapshot). */
  private readonly queues = new Map<string, Promise<void>>()
  /** Per key: the newest append under way (it settles after every earlier one), true once durable; reading the copy waits for it. */
  private readonly appending = new Map<string, Promise<boolean>>()

  constructor(options: ReplicaStoreOptions) {
    this.options = options
  }

  /**
   * Handles one shipment from `from`, in arrival order per key. `offered`: the snapshot is a
   * recovering owner's own copy, not a primary's, so it is installed only if it goes further than
   * this copy (a newer last-record epoch, or the same epoch and more records). Records for a
   * loaded copy with nothing queued before them are applied synchronously: no promise per hop
   * between the message and the journal write, nor between the sync and the ack.
   */
  receive(from: HostId, key: string, epoch: number, records: JournalRecord[], snapshot: ShippedSnapshot | undefined, offered = false, after?: number): void {
    this.shippedSince.add(key)
    const replica = this.warm.get(key)
    if (replica !== undefined && snapshot === undefined && !this.queues.has(key)) {
      try {
        return this.applyRecords(from, key, epoch, replica, records, after)
      } catch {
        return this.forget(key) // a record that does not apply: reload what the journal holds, no ack
      }
    }
    const previous = this.queues.get(key) ?? Promise.resolve()
    const next = previous.then(() => this.apply(from, key, epoch, records, snapshot, offered, after)).catch(() => {
      // Storage failed: forget the warm copy (it may be ahead of the disk) and send no ack.
      this.forget(key)
      this.options.storageFailed?.()
    })
    this.queues.set(key, next)
    void next.finally(() => {
      if (this.queues.get(key) === next) this.queues.delete(key)
    })
  }

  /** Hands over a replica for promotion to primary (after pending shipments are applied and journaled). */
  async take(key: string): Promise<Replica | undefined> {
    await this.settled(key)
    const replica = this.replicas.get(key)
    this.forget(key)
    return replica ? await replica : undefined
  }

  /** This host's copy of `key` (loaded from its journal if needed), after pending shipments. */
  async peek(key: string): Promise<Replica> {
    await this.settled(key)
    const existing = this.replicas.get(key)
    return existing ? await existing : loadFromJournal(this.options.storage, key, this.options.requestsMax, undefined)
  }

  /**
   * Writes `key`'s copy again as one installed snapshot, in turn with its shipments (see
   * `JournalStorage.keysHoldingOldest`): its older entries in the journal are dead then. A warm
   * copy is used if there is one; none is made.
   */
  rewrite(key: string): Promise<void> {
    const previous = this.queues.get(key) ?? Promise.resolve()
    const next = previous.then(async () => {
      await this.appending.get(key)
      const copy = await (this.replicas.get(key) ?? loadFromJournal(this.options.storage, key, this.options.requestsMax, undefined))
      if (copy.seq > 0) await installShipped(this.options.storage, key, shippedOf(copy))
    }).catch(() => undefined) // a copy that moved on meanwhile is refused by the journal: it was written anyway
    this.queues.set(key, next)
    void next.finally(() => {
      if (this.queues.get(key) === next) this.queues.delete(key)
    })
    return next
  }

  /**
   * Drops the warm copies of actors nothing was shipped to since the last call (made once per
   * idle sweep): their primaries passivated them too, and a host's memory would otherwise grow
   * with every actor it ever backed up. A takeover of one replays its journal, as its primary's
   * next activation would have.
   */
  dropIdle(): void {
    for (const key of [...this.replicas.keys()]) {
      if (this.shippedSince.has(key) || this.queues.has(key) || this.appending.has(key)) continue
      this.forget(key)
    }
    this.shippedSince.clear()
  }

  /** Keys with a warm replica here. */
  keys(): string[] {
    return [...this.replicas.keys()]
  }

  /** Drops the replica of `key` (this host is no longer one of its owners). */
  drop(key: string): void {
    this.forget(key)
  }

  private forget(key: string): void {
    this.replicas.delete(key)
    this.warm.delete(key)
  }

  /** Resolves once the shipments of `key` that arrived so far are applied and journaled (or failed). */
  private async settled(key: string): Promise<void> {
    await this.queues.get(key)
    await this.appending.get(key)
  }

  private async apply(from: HostId, key: string, epoch: number, records: JournalRecord[], snapshot: ShippedSnapshot | undefined, offered: boolean, after: number | undefined): Promise<void> {
    const { storage, viewEpoch } = this.options
    if (epoch < viewEpoch()) return this.ackInOrder(from, key, 0, 'stale')
    const replica = await this.load(key)
    if (epoch < replica.epoch) return this.ackInOrder(from, key, replica.seq, 'stale')
    const further = snapshot && (offered ? ahead(snapshot, replica) : snapshot.seq > replica.seq || snapshot.epoch > replica.epoch)
    if (snapshot && further) {
      await this.appending.get(key) // the copy's earlier records first, or they would land after the snapshot
      await installShipped(storage, key, snapshot)
      replica.seq = snapshot.seq
      replica.epoch = snapshot.epoch
      replica.state = snapshot.state
      replica.requests = new RequestTable(this.options.requestsMax, snapshot.requests)
      replica.reminders = new Map(snapshot.reminders ?? [])
    }
    this.applyRecords(from, key, epoch, replica, records, after)
  }

  /**
   * Appends the records that follow the copy to the local journal and applies them to the warm
   * copy while the disk syncs; the ack leaves once they are durable. A failed append drops the
   * copy (it is ahead of the disk) and sends no ack: the primary ships again, and the copy is
   * reloaded from what the journal holds.
   */
  private applyRecords(from: HostId, key: string, epoch: number, replica: Replica, records: JournalRecord[], after: number | undefined): void {
    const { storage, viewEpoch } = this.options
    if (epoch < viewEpoch()) return this.ackInOrder(from, key, 0, 'stale')
    if (epoch < replica.epoch) return this.ackInOrder(from, key, replica.seq, 'stale')
    const accepted: JournalRecord[] = []
    let status: AckStatus = 'ok'
    let seq = replica.seq
    let lastEpoch = replica.epoch
    // The epoch of the primary's record before the current one (undefined: not said).
    let previous = after
    // This copy's tail is another history's: it holds none of the primary's records for sure.
    let diverged = false
    for (const record of records) {
      if (record.seq <= seq) {
        if (record.epoch > lastEpoch) {
          // Our tail came from an older primary: epochs never decrease along a log, so our
          // record at this seq is not the primary's.
          status = 'resync'
          diverged = true
        }
        previous = record.epoch
        continue
      }
      // A gap, or a copy whose last record is another history's (a host back from a crash with
      // a tail no primary kept): appending would mix the two. The primary sends the whole actor.
      if (record.seq !== seq + 1 || (accepted.length === 0 && previous !== undefined && previous !== lastEpoch)) {
        status = 'resync'
        if (record.seq === seq + 1) diverged = true
        break
      }
      previous = record.epoch
      accepted.push(record)
      seq = record.seq
      lastEpoch = record.epoch
    }
    // A diverged copy acknowledges nothing: its seq counts records of another history.
    if (accepted.length === 0) return this.ackInOrder(from, key, diverged ? 0 : replica.seq, status)
    let appended: Promise<void>
    try { appended = storage.append(key, accepted) } catch (error) { appended = Promise.reject(error) }
    // One copy per container for the whole shipment: nothing sees the states between its records.
    const owned = new Set<object>()
    for (const record of accepted) {
      const parts = splitPatch(record.patch as Patch)
      replica.state = applyPatch(replica.state, parts.state, owned)
      applyReminderOps(replica.reminders, parts.reminders)
      replica.requests.set(record.requestId, record.seq, record.result)
      replica.seq = record.seq
      replica.epoch = record.epoch
    }
    const every = this.options.snapshotEveryRecords
    if (Math.floor(replica.seq / every) > Math.floor((accepted[0]!.seq - 1) / every)) {
      // Queued behind the append; a failed snapshot costs only a longer replay.
      const stored: StoredSnapshot = { state: replica.state, requests: replica.requests.toEntries(), reminders: [...replica.reminders] }
      storage.writeSnapshot(key, { seq: replica.seq, epoch: replica.epoch, state: stored }).then(() => storage.compact(key, replica.seq)).catch(() => undefined)
    }
    const done = appended.then(
      () => {
        this.options.ack(from, key, seq, status)
        return true
      },
      () => {
        if (this.warm.get(key) === replica) this.forget(key)
        this.options.storageFailed?.()
        return false
      },
    )
    this.appending.set(key, done)
    void done.then(() => {
      if (this.appending.get(key) === done) this.appending.delete(key)
    })
  }

  /**
   * Acks once the appends under way for `key` are durable, so no ack overtakes an earlier one
   * nor counts records the disk does not hold yet; none that counts them when they failed.
   */
  private ackInOrder(from: HostId, key: string, seq: number, status: AckStatus): void {
    const pending = this.appending.get(key)
    if (pending === undefined) return this.options.ack(from, key, seq, status)
    void pending.then((durable) => {
      if (durable || status === 'stale') this.options.ack(from, key, seq, status)
    })
  }

  private load(key: string): Promise<Replica> {
    let replica = this.replicas.get(key)
    if (!replica) {
      const loading = loadFromJournal(this.options.storage, key, this.options.requestsMax, undefined)
      replica = loading
      this.replicas.set(key, loading)
      loading.then(
        (loaded) => { if (this.replicas.get(key) === loading) this.warm.set(key, loaded) },
        () => { if (this.replicas.get(key) === loading) this.replicas.delete(key) },
      )
    }
    return replica
  }
}

/** True when copy `a` goes further than `b`: a newer last-record epoch, or the same epoch and more records. */
export function ahead(a: { epoch: number; seq: number }, b: { epoch: number; seq: number }): boolean {
  return a.epoch > b.epoch || (a.epoch === b.epoch && a.seq > b.seq)
}

/** A replica as it travels: the whole actor as of its last record (a resync, an offer, an answer). */
export function shippedOf(replica: Replica): ShippedSnapshot {
  return { seq: replica.seq, epoch: replica.epoch, state: replica.state, requests: replica.requests.toEntries(), reminders: [...replica.reminders] }
}

/** Stores a shipped actor in `storage` as an installed snapshot (it replaces the key's log). */
export function installShipped(storage: JournalStorage, key: string, copy: ShippedSnapshot): Promise<void> {
  const state: StoredSnapshot = { state: copy.state, requests: copy.requests, reminders: copy.reminders ?? [] }
  return storage.installSnapshot(key, { seq: copy.seq, epoch: copy.epoch, state })
}

/** Rebuilds an actor from its journal: latest snapshot, then every record after it. */
export async function loadFromJournal(storage: JournalStorage, key: string, requestsMax: number, initial: (() => unknown) | undefined): Promise<Replica> {
  // Two reads: a snapshot, an install or a compaction landing between them would pair one
  // snapshot with another's records (an install after the first read left no snapshot and no
  // record: an empty copy that answered a recovery read, full seed 132). Read again until the
  // snapshot held still across the records' read.
  for (let attempt = 1; ; attempt++) {
    const snapshot = await storage.readSnapshot(key)
    const records = await storage.read(key, (snapshot?.seq ?? 0) + 1)
    const after = await storage.readSnapshot(key)
    if (after?.seq === snapshot?.seq && after?.epoch === snapshot?.epoch) return replay(key, snapshot, records, requestsMax, initial)
    if (attempt >= loadAttemptsMax) throw new TroupeError('StorageFailed', `${key}: its journal kept changing while it was read (${attempt} times)`, { actor: key })
  }
}

/** Reads of a key's journal `loadFromJournal` makes before it gives up on a journal that keeps changing. */
const loadAttemptsMax = 8

/** The actor a snapshot and the records after it make. */
function replay(key: string, snapshot: JournalSnapshot | undefined, records: readonly JournalRecord[], requestsMax: number, initial: (() => unknown) | undefined): Replica {
  const stored = snapshot?.state as StoredSnapshot | undefined
  const requests = new RequestTable(requestsMax, stored?.requests ?? [])
  const reminders: ReminderTable = new Map(stored?.reminders ?? [])
  // A log's first record sets the whole state (see Host.journal), so replay needs no actor class.
  let state: unknown = stored?.state
  let seq = snapshot?.seq ?? 0
  let epoch = snapshot?.epoch ?? 0
  // Copied once, then changed in place: nothing sees the states between two records.
  const owned = new Set<object>()
  for (const record of records) {
    if (record.seq !== seq + 1) throw new TroupeError('CorruptRecord', `${key}: journal jumps from seq ${seq} to ${record.seq}`)
    // Epochs never decrease along a key's log (nor below its snapshot's): a lower one is not this key's history.
    if (record.epoch < epoch) throw new TroupeError('CorruptRecord', `${key}: record ${record.seq} has epoch ${record.epoch} below ${epoch}`)
    const parts = splitPatch(record.patch as Patch)
    state = applyPatch(state, parts.state, owned)
    applyReminderOps(reminders, parts.reminders)
    requests.set(record.requestId, record.seq, record.result)
    seq = record.seq
    epoch = record.epoch
  }
  if (seq === 0 && initial) state = initial()
  return { key, seq, epoch, state, requests, reminders }
}
