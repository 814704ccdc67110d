import type { JournalRecord, JournalStorage } from '../journal/storage.ts'
import { assert } from '../assert.ts'
import type { Clock, TimerHandle } from '../clock.ts'
import { TroupeError } from '../errors.ts'
import type { HostId } from '../view.ts'
import { ackRule, type AckRule, type Consistency } from './consistency.ts'
import { RequestTable } from './request-table.ts'

interface PendingRecord {
  readonly record: JournalRecord
  /** The epoch of the record before it (see `ReplicateEnvelope.after`). */
  readonly after: number
  /** A sync point: the history up to `record.seq` (loaded at activation) must be confirmed by the backups. */
  readonly syncPoint: boolean
  localDone: boolean
  readonly acked: Set<HostId>
  waiters: Array<{ resolve: () => void; reject: (error: TroupeError) => void }>
}

/** What an actor log needs from its host. */
export interface LogPorts {
  /** The host's journal storage (undefined for the `memory` level). */
  storage: JournalStorage | undefined
  /** Sends records to a backup; `after`: the epoch of the record before the first. */
  ship(backup: HostId, key: string, records: JournalRecord[], after: number): void
  /** Sends a backup the whole actor as of the newest record (it lacks the history). */
  resync(backup: HostId): void
  clock: Clock
  /** Ships again what a backup has not acknowledged after this long. */
  retryMs: number
  /** The log failed (storage error, fenced): the activation must go, to be reloaded from what is durable. */
  failed(error: TroupeError): void
  /** Snapshot the journal (and compact behind it) every this many records. */
  snapshotEveryRecords: number
  /** The whole actor as of the newest record, for a snapshot. */
  snapshot(): unknown
}

/**
 * The primary's side of one actor's journal: assigns sequence numbers, appends each turn's record
 * locally and ships it to the backups, and tells when a record is durable at the actor's
 * consistency level. Records complete in seq order, so a reply released for record n never
 * shows state of a record before n that could still be lost.
 */
export class ActorLog {
  readonly key: string
  seq: number
  epoch: number
  readonly requests: RequestTable
  private readonly ports: LogPorts
  private rule: AckRule
  private backups: HostId[]
  private readonly pending: PendingRecord[] = []
  /** Every record up to this seq is durable at the consistency level. */
  durableSeq: number
  /** Set once a record could not be made durable: the activation must be dropped and reloaded. */
  failure: TroupeError | undefined
  private retryTimer: TimerHandle | undefined
  /** How far each backup has acknowledged, whatever the level needs: every backup catches up eventually. */
  private readonly ackedSeq = new Map<HostId, number>()
  /** Every record up to this seq is in this host's journal (appends complete in order). */
  private localSeq: number
  /**
   * Replies gated on another level than the log's (a per-call consistency), by the seq they wait
   * for. The level, not its rule: what it needs follows the view's backups (a backup that leaves).
   */
  private readonly ruled: Array<{ seq: number; level: Consistency; resolve: () => void; reject: (error: TroupeError) => void }> = []
  /** Waiting for every backup to hold every record (see `caughtUp`). */
  private readonly catchingUp: Array<() => void> = []

  constructor(key: string, start: { seq: number; epoch: number; requests: RequestTable }, rule: AckRule, backups: HostId[], ports: LogPorts) {
    this.key = key
    this.seq = start.seq
    this.epoch = start.epoch
    this.durableSeq = start.seq
    this.localSeq = start.seq
    this.requests = start.requests
    this.rule = rule
    this.backups = backups
    this.ports = ports
  }

  /** Appends the next record (seq must be `this.seq + 1`; epochs never decrease). */
  append(record: JournalRecord): void {
    // A turn that ends after its activation stepped down journals nothing: its gate is already failed.
    if (this.failure) return
    assert(record.seq === this.seq + 1, `${this.key}: record seq ${record.seq} does not follow ${this.seq}`)
    assert(record.epoch >= this.epoch, `${this.key}: record epoch ${record.epoch} is older than ${this.epoch}`)
    const after = this.epoch
    this.seq = record.seq
    this.epoch = record.epoch
    this.requests.set(record.requestId, record.seq, record.result)
    if (!this.rule.local && this.backups.length === 0 && this.pending.length === 0) {
      // Nothing to write or wait for (`memory`, no backup in the view): durable at once.
      this.durableSeq = record.seq
      return
    }
    const entry: PendingRecord = { record, after, syncPoint: false, localDone: !this.rule.local, acked: new Set(), waiters: [] }
    this.pending.push(entry)
    // Shipped first: the backups' syncs then run while this host writes its own copy.
    for (const backup of this.backups) this.ports.ship(backup, this.key, [record], after)
    if (this.rule.local) {
      const storage = this.ports.storage!
      storage.append(this.key, [record]).then(
        () => { entry.localDone = true; this.localSeq = Math.max(this.localSeq, record.seq); this.advance() },
        (error: unknown) => this.fail(asStorageError(error)),
      )
      if (record.seq % this.ports.snapshotEveryRecords === 0) {
        // Queued behind the append; a failed snapshot costs only a longer replay.
        const snapshot = { seq: record.seq, epoch: record.epoch, state: this.ports.snapshot() }
        storage.writeSnapshot(this.key, snapshot).then(() => storage.compact(this.key, record.seq)).catch(() => undefined)
      }
    }
    this.advance()
    this.armRetry()
  }

  /**
   * Holds every reply until the backups confirm they hold the history up to `seq` (loaded from
   * this host's journal at activation): a primary that was fenced off, or whose journal has
   * records no backup ever acknowledged, must not answer from them. `heldBy`: backups the
   * recovery read found holding exactly this history, durably; they count as acks at once (when
   * they are all the level needs, nothing waits).
   */
  confirm(seq: number, epoch: number, heldBy: readonly HostId[] = []): void {
    if (seq === 0 || this.backups.length === 0) return
    const held = this.backups.filter((b) => heldBy.includes(b))
    // Counted whatever the level: a call may ask for more than its type (a per-call consistency).
    for (const backup of held) if (seq > (this.ackedSeq.get(backup) ?? 0)) this.ackedSeq.set(backup, seq)
    if (this.rule.backups === 0) return
    assert(this.pending.length === 0 && seq === this.seq, `${this.key}: a sync point must come before any new record`)
    this.durableSeq = 0
    this.pending.push({ record: { seq, epoch, requestId: '', patch: [], result: undefined }, after: epoch, syncPoint: true, localDone: true, acked: new Set(held), waiters: [] })
    for (const backup of this.backups) if (!held.includes(backup)) this.ports.resync(backup)
    this.advance()
    this.armRetry()
  }

  /** Shipments and acks can be lost: ship again whatever a backup has not acknowledged yet. */
  private lagging(): HostId[] {
    return this.backups.filter((b) => (this.ackedSeq.get(b) ?? 0) < this.seq)
  }

  private armRetry(): void {
    if (this.retryTimer !== undefined || this.failure || (this.pending.length === 0 && this.lagging().length === 0)) return
    this.retryTimer = this.ports.clock.setTimeout(() => {
      this.retryTimer = undefined
      if (this.failure) return
      for (const backup of this.lagging()) {
        const missing = this.pending.filter((p) => !p.acked.has(backup))
        if (missing.some((p) => p.syncPoint) || missing.length === 0) this.ports.resync(backup)
        else this.ports.ship(backup, this.key, missing.map((p) => p.record), missing[0]!.after)
      }
      this.armRetry()
    }, this.ports.retryMs)
  }

  /**
   * Resolves (undefined: at once) when every record up to `seq` is durable at the log's level, or
   * at `level` when given (a call's own consistency: the log's records still all reach every backup).
   */
  whenDurable(seq: number, level?: Consistency): Promise<void> | undefined {
    if (this.failure) return Promise.reject(this.failure)
    const rule = level === undefined ? undefined : ackRule(level, this.backups.length)
    if (level !== undefined && rule !== undefined && (rule.local !== this.rule.local || rule.backups !== this.rule.backups)) {
      if (this.meets(seq, rule)) return undefined
      const waiting = new Promise<void>((resolve, reject) => this.ruled.push({ seq, level, resolve, reject }))
      // A type whose level needs no backup may hold no acknowledgement yet: the retry ships to those that lag.
      if (rule.backups > 0) this.armRetry()
      return waiting
    }
    if (seq <= this.durableSeq) return undefined
    const entry = this.pending.find((p) => p.record.seq >= seq)
    assert(entry !== undefined, `${this.key}: no pending record at or after ${seq}`)
    return new Promise((resolve, reject) => entry.waiters.push({ resolve, reject }))
  }

  /**
   * Resolves once every backup of the view has acknowledged every record, or the log fails or
   * retires: a membership change is complete only when an active actor's new backups hold it too
   * (the supervisor waits for it before the next change, or before a host it would kill).
   */
  caughtUp(): Promise<void> {
    if (this.failure || this.lagging().length === 0) return Promise.resolve()
    this.armRetry()
    return new Promise((resolve) => this.catchingUp.push(resolve))
  }

  private releaseCaughtUp(): void {
    if (this.catchingUp.length === 0 || (!this.failure && this.lagging().length > 0)) return
    for (const resolve of this.catchingUp.splice(0)) resolve()
  }

  /** A backup holds every record up to `seq` durably. */
  acknowledged(backup: HostId, seq: number): void {
    if (seq > (this.ackedSeq.get(backup) ?? 0)) this.ackedSeq.set(backup, seq)
    for (const entry of this.pending) {
      if (entry.record.seq > seq) break
      entry.acked.add(backup)
    }
    this.advance()
  }

  /** The view changed: count acks only from the new backups, and ship them what is pending. */
  retarget(rule: AckRule, backups: HostId[]): void {
    this.rule = { local: this.rule.local, backups: rule.backups }
    // A backup new to the list counts as holding nothing, whatever it acknowledged before: a host
    // that left the view and came back (a replacement with its id, maybe without its disk) may
    // hold nothing now. It lags, so the retry gives it the whole actor.
    for (const backup of backups) if (!this.backups.includes(backup)) this.forget(backup)
    this.backups = backups
    const records = this.pending.filter((p) => !p.syncPoint).map((p) => p.record)
    if (this.pending.some((p) => p.syncPoint)) for (const backup of backups) this.ports.resync(backup)
    else if (records.length > 0) for (const backup of backups) this.ports.ship(backup, this.key, records, this.pending[0]!.after)
    this.advance()
    this.armRetry()
  }

  /**
   * `backup` came back without its disk: what it acknowledged is gone, so its acks count no more
   * and it gets the whole actor again, shipped until it acknowledges it (a lost shipment would
   * otherwise leave it empty while this log counts it as up to date).
   */
  lost(backup: HostId): void {
    if (this.failure || !this.backups.includes(backup)) return
    this.forget(backup)
    this.ports.resync(backup)
    this.armRetry()
  }

  /**
   * The activation is gone (passivated): no ack will reach this log any more, so it stops its
   * retries, after one last resync of every backup that still lags (an idle actor keeps its
   * replication factor; a resync that is lost waits for the next re-replication).
   */
  retire(): void {
    if (this.retryTimer !== undefined) this.ports.clock.clearTimeout(this.retryTimer)
    this.retryTimer = undefined
    // No ack reaches a retired log: a reply gated on more than the type's level is redirected, and
    // its caller's retry is answered from the journal by the next activation.
    const stranded = this.ruled.splice(0)
    for (const waiter of stranded) waiter.reject(new TroupeError('HostUnavailable', `${this.key} was passivated before its record met the call's level`, { actor: this.key }))
    for (const resolve of this.catchingUp.splice(0)) resolve()
    if (this.failure) return
    for (const backup of this.lagging()) this.ports.resync(backup)
  }

  /** Counts nothing `backup` acknowledged so far. */
  private forget(backup: HostId): void {
    this.ackedSeq.delete(backup)
    for (const entry of this.pending) entry.acked.delete(backup)
  }

  get currentBackups(): readonly HostId[] {
    return this.backups
  }

  /** Records still waiting for durability. */
  get pendingCount(): number {
    return this.pending.length
  }

  /** Fails every pending record (fencing, storage error); nothing of them is acknowledged. */
  fail(error: TroupeError): void {
    if (this.failure) return
    this.failure = error
    if (this.retryTimer !== undefined) this.ports.clock.clearTimeout(this.retryTimer)
    this.retryTimer = undefined
    const pending = this.pending.splice(0)
    for (const entry of pending) for (const waiter of entry.waiters) waiter.reject(error)
    for (const waiter of this.ruled.splice(0)) waiter.reject(error)
    this.releaseCaughtUp()
    this.ports.failed(error)
  }

  private advance(): void {
    let blocked = false
    while (this.pending.length > 0) {
      const head = this.pending[0]!
      if (!head.localDone || this.countAcks(head) < this.rule.backups) {
        blocked = true
        break
      }
      this.pending.shift()
      this.durableSeq = head.record.seq
      for (const waiter of head.waiters) waiter.resolve()
    }
    if (this.ruled.length > 0) this.releaseRuled()
    this.releaseCaughtUp()
    if (blocked) return
    if (this.retryTimer !== undefined && this.lagging().length === 0) {
      this.ports.clock.clearTimeout(this.retryTimer)
      this.retryTimer = undefined
    }
  }

  /** Releases the replies gated on another level than the log's whose records now meet it. */
  private releaseRuled(): void {
    const ready: typeof this.ruled = []
    const waiting: typeof this.ruled = []
    for (const waiter of this.ruled) (this.meets(waiter.seq, ackRule(waiter.level, this.backups.length)) ? ready : waiting).push(waiter)
    if (ready.length === 0) return
    this.ruled.length = 0
    this.ruled.push(...waiting)
    // In the order the replies were gated: a caller's later reply never overtakes an earlier one.
    for (const waiter of ready) waiter.resolve()
  }

  /** Whether this host's own journal holds every record up to `seq` durably (false for a log that writes none). */
  holdsLocally(seq: number): boolean {
    return this.rule.local && this.localSeq >= seq && !(this.pending.length > 0 && this.pending[0]!.syncPoint)
  }

  /**
   * Whether every record up to `seq` is durable at `rule`: in this host's journal if it asks, and
   * acknowledged by that many backups of the view (an acknowledgement covers every record before it).
   * A sync point still open counts as not durable (the history it confirms comes first).
   */
  private meets(seq: number, rule: AckRule): boolean {
    if (this.pending.length > 0 && this.pending[0]!.syncPoint) return false
    if (rule.local && this.localSeq < seq) return false
    if (rule.backups === 0) return true
    let n = 0
    for (const backup of this.backups) if ((this.ackedSeq.get(backup) ?? 0) >= seq) n++
    return n >= rule.backups
  }

  private countAcks(entry: PendingRecord): number {
    let n = 0
    for (const backup of this.backups) if (entry.acked.has(backup)) n++
    return n
  }
}

function asStorageError(error: unknown): TroupeError {
  if (error instanceof TroupeError) return error
  return new TroupeError('StorageFailed', (error as Error)?.message ?? String(error))
}
