import { get, promisifyRequest, type UseStore } from 'idb-keyval'
import { assert } from '../assert.ts'
import { TroupeError } from '../errors.ts'
import { cloneValue } from './codec.ts'
import { GroupCommit } from './group-commit.ts'
import { SeqTracker, type KeyHead } from './seq-tracker.ts'
import type { JournalRecord, JournalSnapshot, JournalStorage } from './storage.ts'
import { checkRead, checkStoredHead, checkStoredRecords, checkStoredSnapshot, ownRecords, ownSnapshot } from './validate.ts'

/** Every limit and name of the IndexedDB journal, with its default. */
export interface IdbJournalOptions {
  /** Database name (required). */
  dbName: string
  /** Object store name. Default `journal`. */
  storeName: string
  /** Writes coalesced into one readwrite transaction at most. Default 4096. */
  batchOpsMax: number
}

type IdbOp =
  | { kind: 'records'; key: string; records: JournalRecord[] }
  | { kind: 'snapshot'; key: string; snapshot: JournalSnapshot }
  | { kind: 'compact'; key: string; uptoSeq: number }
  | { kind: 'install'; key: string; snapshot: JournalSnapshot }

/** Like idb-keyval's `createStore`, but every transaction asks for `durability: 'strict'`. */
function strictStore(dbName: string, storeName: string): { use: UseStore; db: Promise<IDBDatabase> } {
  const request = indexedDB.open(dbName)
  request.onupgradeneeded = () => request.result.createObjectStore(storeName)
  const db = promisifyRequest(request)
  const use: UseStore = (mode, callback) =>
    db.then((d) => callback(d.transaction(storeName, mode, { durability: 'strict' }).objectStore(storeName)))
  return { use, db }
}

function idbError(error: unknown): TroupeError {
  if (error instanceof TroupeError) return error
  const name = (error as { name?: unknown } | null)?.name
  // A transaction aborted by `abort()` rejects with a null error.
  const why = error === null ? 'transaction aborted' : error instanceof Error ? `${error.name}: ${error.message}` : String(error)
  return new TroupeError(name === 'QuotaExceededError' ? 'StorageFull' : 'StorageFailed', `IndexedDB journal: ${why}`)
}

/** The key's part of a head's store key `['h', key]`; `CorruptRecord` when it is not one. */
function headKey(storeKey: unknown): string {
  const key = Array.isArray(storeKey) ? storeKey[1] as unknown : undefined
  if (typeof key !== 'string' || key.length === 0) {
    throw new TroupeError('CorruptRecord', `IndexedDB journal: stored head key ${String(storeKey)} names no journal key`)
  }
  return key
}

const headRange = (): IDBKeyRange => IDBKeyRange.bound(['h'], ['h', []])

/**
 * The journal in IndexedDB (browsers; Node tests use fake-indexeddb) through idb-keyval.
 * One object store: `['r', key, seq]` → record, `['s', key]` → snapshot, `['h', key]` → the
 * key's head. Values are stored as structured clones natively. Concurrent writes coalesce into
 * one readwrite transaction with `durability: 'strict'`; a write resolves on its `complete`.
 */
export class IdbJournalStorage implements JournalStorage {
  private readonly tracker = new SeqTracker()
  private readonly commits: GroupCommit<IdbOp>
  private closed = false

  private constructor(private readonly store: UseStore, private readonly db: IDBDatabase, batchOpsMax: number) {
    this.commits = new GroupCommit<IdbOp>((ops) => this.commit(ops), { batchOpsMax, batchBytesMax: Infinity },
      () => 0, () => this.tracker.rollback(), () => this.tracker.settle())
  }

  /** Opens (creating if needed) the journal database and loads every key's head. */
  static async open(options: Partial<IdbJournalOptions> & { dbName: string }): Promise<IdbJournalStorage> {
    const batchOpsMax = options.batchOpsMax ?? 4096
    assert(Number.isSafeInteger(batchOpsMax) && batchOpsMax > 0, 'batchOpsMax must be a positive integer')
    let opened: IDBDatabase | undefined
    try {
      const { use, db } = strictStore(options.dbName, options.storeName ?? 'journal')
      opened = await db
      const storage = new IdbJournalStorage(use, opened, batchOpsMax)
      const [keys, heads] = await use('readonly', (s) =>
        Promise.all([promisifyRequest(s.getAllKeys(headRange())), promisifyRequest(s.getAll(headRange()))]))
      // Validate every head before restoring any: a journal that fails to open is left as it was.
      const restored = keys.map((k, i) => { const key = headKey(k); return [key, checkStoredHead(key, heads[i])] as const })
      for (const [key, head] of restored) storage.tracker.restore(key, head)
      return storage
    } catch (error) {
      opened?.close() // else the connection would block a later upgrade or deletion of the database
      throw idbError(error)
    }
  }

  /** See `JournalStorage.append`. */
  async append(key: string, records: readonly JournalRecord[]): Promise<void> {
    this.checkOpen()
    const copies = cloneValue(ownRecords(records), key)
    this.tracker.reserveRecords(key, copies)
    return this.commits.submit({ kind: 'records', key, records: copies })
  }

  /** See `JournalStorage.read`. */
  async read(key: string, fromSeq = 0): Promise<JournalRecord[]> {
    this.checkOpen()
    checkRead(key, fromSeq)
    const range = IDBKeyRange.bound(['r', key, fromSeq], ['r', key, Infinity])
    let records: unknown[]
    try { records = await this.store('readonly', (s) => promisifyRequest(s.getAll(range))) } catch (error) { throw idbError(error) }
    return checkStoredRecords(key, records, fromSeq)
  }

  /** See `JournalStorage.writeSnapshot`. */
  async writeSnapshot(key: string, snapshot: JournalSnapshot): Promise<void> {
    this.checkOpen()
    const copy = cloneValue(ownSnapshot(snapshot), key)
    this.tracker.reserveSnapshot(key, copy)
    return this.commits.submit({ kind: 'snapshot', key, snapshot: copy })
  }

  /** See `JournalStorage.installSnapshot`: the snapshot, the head and the deletion of every record in one transaction. */
  async installSnapshot(key: string, snapshot: JournalSnapshot): Promise<void> {
    this.checkOpen()
    const copy = cloneValue(ownSnapshot(snapshot), key)
    this.tracker.reserveInstall(key, copy)
    return this.commits.submit({ kind: 'install', key, snapshot: copy })
  }

  /** See `JournalStorage.readSnapshot`. */
  async readSnapshot(key: string): Promise<JournalSnapshot | undefined> {
    this.checkOpen()
    checkRead(key)
    let snapshot: unknown
    try { snapshot = await get<unknown>(['s', key], this.store) } catch (error) { throw idbError(error) }
    return snapshot === undefined ? undefined : checkStoredSnapshot(key, snapshot)
  }

  /** See `JournalStorage.compact`. */
  async compact(key: string, uptoSeq: number): Promise<void> {
    this.checkOpen()
    this.tracker.checkCompact(key, uptoSeq)
    return this.commits.submit({ kind: 'compact', key, uptoSeq })
  }

  /** See `JournalStorage.keys`. */
  async keys(): Promise<string[]> {
    this.checkOpen()
    return this.tracker.keys()
  }

  /** See `JournalStorage.close`. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.commits.drain()
    this.db.close()
  }

  private checkOpen(): void {
    assert(!this.closed, 'journal storage used after close')
  }

  private async commit(ops: IdbOp[]): Promise<void> {
    try {
      await this.store('readwrite', (s) => {
        try { this.issue(s, ops) } catch (error) {
          // A request that throws leaves the ones before it in the transaction: abort, or they would commit.
          try { s.transaction.abort() } catch { /* already finished */ }
          throw error
        }
        return promisifyRequest(s.transaction)
      })
    } catch (error) { throw idbError(error) }
    for (const op of ops) {
      if (op.kind === 'records') this.tracker.commitRecords(op.key, op.records)
      else if (op.kind === 'snapshot') this.tracker.commitSnapshot(op.key, op.snapshot)
      else if (op.kind === 'install') this.tracker.commitInstall(op.key, op.snapshot)
    }
  }

  /** Issues the batch's requests on `s`: its records, snapshots and deletions, then the heads they move. */
  private issue(s: IDBObjectStore, ops: readonly IdbOp[]): void {
    const heads = new Map<string, KeyHead>()
    for (const op of ops) {
      const head = heads.get(op.key) ?? { ...this.tracker.durableHead(op.key) }
      if (op.kind === 'records') {
        for (const r of op.records) s.put(r, ['r', op.key, r.seq])
        head.seq = op.records[op.records.length - 1]!.seq
        head.epoch = op.records[op.records.length - 1]!.epoch
      } else if (op.kind === 'snapshot') {
        s.put(op.snapshot, ['s', op.key])
        head.snapshotSeq = op.snapshot.seq
        head.snapshotEpoch = op.snapshot.epoch
      } else if (op.kind === 'install') {
        s.delete(IDBKeyRange.bound(['r', op.key, 0], ['r', op.key, Infinity]))
        s.put(op.snapshot, ['s', op.key])
        head.seq = head.snapshotSeq = op.snapshot.seq
        head.epoch = head.snapshotEpoch = op.snapshot.epoch
      } else {
        s.delete(IDBKeyRange.bound(['r', op.key, 0], ['r', op.key, op.uptoSeq]))
      }
      heads.set(op.key, head)
    }
    for (const [key, head] of heads) s.put(head, ['h', key])
  }
}
