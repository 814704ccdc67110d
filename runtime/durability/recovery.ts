import type { FetchedEnvelope, FetchEnvelope } from '../../transport/envelope.ts'
import type { PeerId } from '../../transport/transport.ts'
import type { Clock, TimerHandle } from '../clock.ts'
import { TroupeError } from '../errors.ts'
import type { JournalStorage } from '../journal/storage.ts'
import type { HostId, View } from '../view.ts'
import { ahead, installShipped, shippedOf, type Replica, type ShippedSnapshot } from './replica-store.ts'
import { RequestTable } from './request-table.ts'

/** What recovery needs from its host. */
export interface RecoveryPorts {
  self: HostId
  clock: Clock
  storage: JournalStorage
  requestsMax: number
  retryMs: number
  view(): View
  /** Adopts a newer view learnt from another owner. */
  adoptView(view: View): void
  backupsOf(key: string): HostId[]
  /** How many backups must answer when `key` has `backups` of them (its level's acknowledgements). */
  needed(key: string, backups: number): number
  send(to: PeerId, envelope: FetchEnvelope | FetchedEnvelope): void
  nextId(): string
  /** This host's copy of `key`: its activation's, or its replica's (from its journal); `durable` when all of it is journaled here. */
  localCopy(key: string): Promise<{ copy: ShippedSnapshot; durable: boolean } | undefined>
  /** Another owner's copy, for this host to install as a backup would a resync, if it is ahead (queued behind pending shipments). */
  offer(from: HostId, key: string, epoch: number, copy: ShippedSnapshot): void
  /**
   * This host's own copy of `key` (`seq` records) may be behind what was acknowledged (it replaced
   * a host without a disk and holds nothing, or it came back with its disk while others wrote and
   * no owner has confirmed it since): it proves nothing, so one more backup must answer.
   */
  unsure(key: string, seq: number): boolean
  /**
   * ...and with no backup in the view, the read waits for one rather than start from this copy:
   * a host back on its disk whose up-to-date owners died meanwhile (they may come back with their
   * disks). Not a host back without its disk: it holds nothing, and nobody else holds more.
   */
  waitsForOwner(key: string): boolean
  /** Another owner answered a read of `key`: this host's copy is the furthest among them now. */
  confirmed(key: string): void
}

/**
 * The recovery read: before a new primary's first turn it asks the other owners how far their
 * copies go and starts from the furthest (newest last-record epoch, then highest seq), so a host
 * that restarted without its disk, or whose journal holds records a newer primary overwrote,
 * starts from the real history. It waits for as many answers as the consistency level needs
 * acknowledgements (strong: every backup), recounted on every answer since the view may change.
 */
export class Recovery {
  private readonly ports: RecoveryPorts
  private readonly waiting = new Map<string, (from: PeerId, answer: FetchedEnvelope) => void>()
  /** Per key, the journal installs of a `keep` read still under way (see `recover`). */
  private readonly saving = new Map<string, Promise<void>>()
  /** Per key, where copies offered by other owners go while a read of that key is under way (see `offered`). */
  private readonly offers = new Map<string, Set<(copy: ShippedSnapshot) => void>>()

  constructor(ports: RecoveryPorts) {
    this.ports = ports
  }

  /**
   * Brings `start` (this host's own copy) up to the furthest copy among the owners, and says which
   * backups hold exactly the copy recovered, durably (`heldBy`). The read carries `start`, so an
   * owner that is behind installs it before answering: when `start` is the furthest, every backup
   * holds it after this one round trip. `abandon`: checked before each round of asking; when
   * true the read gives up with `HostUnavailable`. `keep`: each copy further than this host's is
   * installed in its journal as soon as it arrives (until `abandon`), not only once enough owners
   * answered: a read that never completes (an owner unreachable, then the activation steps down)
   * must not leave the furthest copy in memory alone, where the next activation here cannot find it
   * once the view no longer lists the owner that sent it.
   */
  async recover(key: string, start: Replica, abandon?: () => boolean, keep = false, early: readonly ShippedSnapshot[] = []): Promise<{ copy: Replica; heldBy: HostId[] }> {
    const { ports } = this
    const unsure = ports.unsure(key, start.seq)
    const waits = unsure && ports.waitsForOwner(key)
    if (!waits && ports.needed(key, ports.backupsOf(key).length) === 0) {
      // No owner to ask: a copy offered ahead of time still counts if it goes further.
      const furthest = early.reduce<ShippedSnapshot | undefined>((best, copy) => (ahead(copy, best ?? start) ? copy : best), undefined)
      if (furthest === undefined) return { copy: start, heldBy: [] }
      await this.settled(key)
      await installShipped(ports.storage, key, furthest)
      return { copy: replicaOfShipped(key, furthest, ports.requestsMax), heldBy: [] }
    }
    // Only when the view moved on since this copy's last record (a backup may be new to the key):
    // an actor reactivated where it last wrote has backups that already hold its copy. Decided at
    // every round of asking: a read that outlives its view (an owner down, then back without its
    // disk) must bring the owners of the next one up to date too (full seed 50979).
    let copyOfStart: ShippedSnapshot | undefined
    const offered = (): ShippedSnapshot | undefined => start.seq === 0 || start.epoch >= ports.view().epoch ? undefined
      : (copyOfStart ??= shippedOf(start))
    // Read and write sets must meet: this host's own copy counts as one answer, unless it may be
    // behind (see `unsure`): then one more backup must answer, and with none in the view, the read
    // waits (a host back from a crash whose up-to-date owners died meanwhile must not serve, nor
    // write over, the history they hold: they may come back with their disks).
    const extra = unsure ? 1 : 0
    const answers = new Set<HostId>()
    const copies = new Map<HostId, { epoch: number; seq: number }>()
    const id = ports.nextId()
    let best: ShippedSnapshot | undefined
    let kept: ShippedSnapshot | undefined
    const save = (copy: ShippedSnapshot): void => {
      const previous = this.saving.get(key) ?? Promise.resolve()
      const next = previous.then(async () => {
        if (abandon?.() || (kept && !ahead(copy, kept))) return
        await installShipped(ports.storage, key, copy)
        kept = copy
      })
      const settled = next.catch(() => undefined)
      this.saving.set(key, settled)
      void settled.finally(() => {
        if (this.saving.get(key) === settled) this.saving.delete(key)
      })
    }
    // A copy an owner offered (it re-replicates to this host, back without its disk) counts like a
    // further copy in an answer: taken (and kept) if it goes further, though it answers nothing.
    const consider = (copy: ShippedSnapshot): void => {
      if (!ahead(copy, best ?? start)) return
      best = copy
      if (keep) save(best)
    }
    for (const copy of early) consider(copy)
    const listening = this.offers.get(key) ?? new Set()
    listening.add(consider)
    this.offers.set(key, listening)
    try {
      await new Promise<void>((resolve, reject) => {
        let timer: TimerHandle | undefined
        const enough = (): boolean => {
          const current = ports.backupsOf(key)
          if (waits && current.length === 0) return false
          return current.filter((h) => answers.has(h)).length >= Math.min(ports.needed(key, current.length) + extra, current.length)
        }
        const ask = (): void => {
          // The view may have changed since the last answer: the owners that answered may be enough now.
          if (answers.size > 0 && enough()) return resolve()
          if (abandon?.()) return reject(new TroupeError('HostUnavailable', `${key}: recovery read abandoned`, { actor: key }))
          const snapshot = offered()
          for (const backup of ports.backupsOf(key)) {
            if (answers.has(backup)) continue
            const fetch: FetchEnvelope = { v: 1, t: 'fetch', id, epoch: ports.view().epoch, view: ports.view(), key, lastEpoch: start.epoch, seq: start.seq }
            if (snapshot) fetch.snapshot = snapshot
            ports.send(backup, fetch)
          }
          timer = ports.clock.setTimeout(ask, ports.retryMs)
        }
        this.waiting.set(id, (from, answer) => {
          if (answer.status === 'stale') {
            if (timer !== undefined) ports.clock.clearTimeout(timer)
            if (answer.view) ports.adoptView(answer.view)
            reject(new TroupeError('StaleEpoch', `${key}: ${from} knows a newer view than ${ports.self}`, { actor: key }))
            return
          }
          answers.add(from)
          if (answer.status === 'ok') copies.set(from, { epoch: answer.lastEpoch, seq: answer.seq })
          // Every read of this key under way here takes the copy, not only the one that asked: an
          // idle actor's read (pushFurthest) and its activation's can overlap, and the activation
          // must not start behind a copy the other installed (full seed 602373: a deposit ran twice).
          if (answer.snapshot) this.offered(key, answer.snapshot)
          if (enough()) {
            if (timer !== undefined) ports.clock.clearTimeout(timer)
            resolve()
          }
        })
        ask()
      })
    } finally {
      this.waiting.delete(id)
      listening.delete(consider)
      if (listening.size === 0 && this.offers.get(key) === listening) this.offers.delete(key)
    }
    if (answers.size > 0) ports.confirmed(key)
    const chosen = best ?? start
    const heldBy = [...copies].filter(([, c]) => c.epoch === chosen.epoch && c.seq === chosen.seq).map(([host]) => host)
    if (!best) return { copy: start, heldBy }
    await this.settled(key)
    if (keep && abandon?.()) throw new TroupeError('HostUnavailable', `${key}: recovery read abandoned`, { actor: key })
    if (kept !== best) await installShipped(ports.storage, key, best)
    return { copy: replicaOfShipped(key, best, ports.requestsMax), heldBy }
  }

  /** Resolves once no journal install of an earlier `keep` read of `key` is under way. */
  async settled(key: string): Promise<void> {
    for (let saving = this.saving.get(key); saving; saving = this.saving.get(key)) await saving
  }

  /**
   * Another owner offered its copy of `key` (see `Host.offerCopy`) while this host loads it: the
   * read under way takes it if it goes further. False when no read of `key` is under way here.
   */
  offered(key: string, copy: ShippedSnapshot): boolean {
    const listening = this.offers.get(key)
    if (!listening || listening.size === 0) return false
    for (const consider of listening) consider(copy)
    return true
  }

  /** An answer to one of this host's recovery reads. */
  received(from: PeerId, answer: FetchedEnvelope): void {
    this.waiting.get(answer.id)?.(from, answer)
  }

  /** Another host recovers an actor: tell it how far this host's copy goes, and send it if it is further. */
  async answer(from: PeerId, fetch: FetchEnvelope): Promise<void> {
    const { ports } = this
    const reply = (lastEpoch: number, seq: number, status: FetchedEnvelope['status'], snapshot?: ShippedSnapshot): void => {
      const envelope: FetchedEnvelope = { v: 1, t: 'fetched', id: fetch.id, key: fetch.key, lastEpoch, seq, status }
      if (snapshot) envelope.snapshot = snapshot
      if (status === 'stale') envelope.view = ports.view()
      ports.send(from, envelope)
    }
    if (fetch.epoch < ports.view().epoch) return reply(0, 0, 'stale')
    // Adopt the asker's newer view first: from now on this owner fences off the old primary.
    if (fetch.view.epoch > ports.view().epoch) ports.adoptView(fetch.view)
    // Installed (if it is ahead) before this host reads its own copy: the answer then tells the asker this host holds it.
    if (fetch.snapshot) ports.offer(from, fetch.key, fetch.epoch, fetch.snapshot)
    const local = await ports.localCopy(fetch.key).catch(() => undefined)
    if (!local) return // an unreadable journal answers nothing; the asker retries
    const mine = local.copy
    reply(mine.epoch, mine.seq, local.durable ? 'ok' : 'unsynced', ahead(mine, { seq: fetch.seq, epoch: fetch.lastEpoch }) ? mine : undefined)
  }
}

/** The replica a shipped copy makes. */
function replicaOfShipped(key: string, copy: ShippedSnapshot, requestsMax: number): Replica {
  const { seq, epoch, state, requests, reminders = [] } = copy
  return { key, seq, epoch, state, requests: new RequestTable(requestsMax, requests), reminders: new Map(reminders) }
}
