import 'fake-indexeddb/auto'
import { afterEach, describe, expect, test, vi } from 'vitest'
import { isTroupeError, type ErrorKind } from '../../runtime/errors.ts'
import { IdbJournalStorage } from '../../runtime/journal/idb-storage.ts'
import { rec } from './conformance.ts'

/**
 * The IndexedDB journal's failures (injected by patching fake-indexeddb's objects) and what it
 * makes of stored values it did not write (put there behind its back).
 */

let dbCount = 0
const freshName = (): string => `journal-idb-test-${++dbCount}`

function done<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result)
    request.onerror = () => reject(request.error)
  })
}

/** Writes `[store key, value]` pairs into the journal's object store directly. */
async function putRaw(dbName: string, writes: [IDBValidKey, unknown][]): Promise<void> {
  const db = await done(indexedDB.open(dbName))
  try {
    const tx = db.transaction('journal', 'readwrite')
    for (const [key, value] of writes) tx.objectStore('journal').put(value, key)
    await new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve()
      tx.onerror = tx.onabort = () => reject(tx.error)
    })
  } finally { db.close() }
}

/** Deletes the database; 'blocked' when a connection to it is still open. */
function deleteDb(dbName: string): Promise<'deleted' | 'blocked'> {
  return new Promise((resolve) => {
    const request = indexedDB.deleteDatabase(dbName)
    request.onsuccess = request.onerror = () => resolve('deleted')
    request.onblocked = () => resolve('blocked')
  })
}

const rejectsWith = (kind: ErrorKind) => (e: unknown): boolean => isTroupeError(e, kind)

/** A journal holding records 1 and 2 of `K/1`, closed. */
async function seeded(): Promise<string> {
  const dbName = freshName()
  const storage = await IdbJournalStorage.open({ dbName })
  await storage.append('K/1', [rec(1), rec(2)])
  await storage.close()
  return dbName
}

interface FakeTransaction { _abort(errName: string | null): void }

/** Makes the next readwrite transaction abort after its requests are issued, as a browser does at commit. */
function abortNextWrite(errName: string | null): void {
  const transaction = IDBDatabase.prototype.transaction
  const spy = vi.spyOn(IDBDatabase.prototype, 'transaction').mockImplementation(function (this: IDBDatabase, ...args: Parameters<IDBDatabase['transaction']>) {
    const tx = transaction.apply(this, args)
    if (args[1] === 'readwrite') {
      spy.mockRestore()
      queueMicrotask(() => { if (errName === null) tx.abort(); else (tx as unknown as FakeTransaction)._abort(errName) })
    }
    return tx
  })
}

describe('IndexedDB journal: failures', () => {
  afterEach(() => { vi.restoreAllMocks() })

  test.each([
    ['QuotaExceededError', 'StorageFull'],
    ['UnknownError', 'StorageFailed'],
    [null, 'StorageFailed'], // abort() itself: the transaction has no error
  ] as const)('a transaction aborted with %s rejects its whole batch with %s, writes nothing, and the journal goes on', async (errName, kind) => {
    const dbName = await seeded()
    const storage = await IdbJournalStorage.open({ dbName })
    abortNextWrite(errName)
    const results = await Promise.allSettled([
      storage.append('K/1', [rec(3)]),
      storage.append('K/2', [rec(1)]),
      storage.writeSnapshot('K/1', { seq: 2, epoch: 1, state: 'two' }),
      storage.installSnapshot('K/3', { seq: 5, epoch: 1, state: 'five' }),
    ])
    for (const r of results) expect(r.status === 'rejected' && rejectsWith(kind)(r.reason), String((r as PromiseRejectedResult).reason)).toBe(true)
    expect(await storage.read('K/1')).toEqual([rec(1), rec(2)])
    expect(await storage.read('K/2')).toEqual([])
    expect(await storage.readSnapshot('K/1')).toBeUndefined()
    expect(await storage.keys()).toEqual(['K/1'])
    // Nothing of the batch was kept: the same seqs are taken again.
    await storage.append('K/1', [rec(3)])
    await storage.append('K/2', [rec(1)])
    await storage.close()
    const reopened = await IdbJournalStorage.open({ dbName })
    expect((await reopened.read('K/1')).map((r) => r.seq)).toEqual([1, 2, 3])
    expect(await reopened.read('K/2')).toEqual([rec(1)])
    expect(await reopened.readSnapshot('K/3')).toBeUndefined()
    expect((await reopened.keys()).sort()).toEqual(['K/1', 'K/2'])
    await reopened.close()
    await deleteDb(dbName)
  })

  test('a request that throws midway through a batch aborts the transaction: the requests before it do not commit', async () => {
    const dbName = await seeded()
    const storage = await IdbJournalStorage.open({ dbName })
    const put = IDBObjectStore.prototype.put
    let calls = 0
    vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(function (this: IDBObjectStore, ...args: Parameters<IDBObjectStore['put']>) {
      if (++calls === 2) throw new DOMException('over quota', 'QuotaExceededError')
      return put.apply(this, args)
    })
    await expect(storage.append('K/1', [rec(3), rec(4)])).rejects.toSatisfy(rejectsWith('StorageFull'))
    vi.restoreAllMocks()
    expect(await storage.read('K/1')).toEqual([rec(1), rec(2)])
    await storage.close()
    const reopened = await IdbJournalStorage.open({ dbName })
    expect(await reopened.read('K/1')).toEqual([rec(1), rec(2)])
    await reopened.append('K/1', [rec(3)])
    await reopened.close()
    await deleteDb(dbName)
  })

  test('a failed read is StorageFailed and changes nothing', async () => {
    const dbName = await seeded()
    const storage = await IdbJournalStorage.open({ dbName })
    vi.spyOn(IDBObjectStore.prototype, 'getAll').mockImplementationOnce(() => { throw new DOMException('gone', 'UnknownError') })
    await expect(storage.read('K/1')).rejects.toSatisfy(rejectsWith('StorageFailed'))
    expect(await storage.read('K/1')).toEqual([rec(1), rec(2)])
    await storage.close()
    await deleteDb(dbName)
  })
})

describe('IndexedDB journal: stored values of the wrong shape are CorruptRecord', () => {
  const goodHead = { seq: 2, epoch: 1, snapshotSeq: -1, snapshotEpoch: 0 }

  test.each<[string, IDBValidKey, unknown]>([
    ['a head that is not an object', ['h', 'K/1'], 'garbage'],
    ['a null head', ['h', 'K/1'], null],
    ['a head without its snapshot fields', ['h', 'K/1'], { seq: 2, epoch: 1 }],
    ['a head with seq 1.5', ['h', 'K/1'], { ...goodHead, seq: 1.5 }],
    ['a head with a string epoch', ['h', 'K/1'], { ...goodHead, epoch: '1' }],
    ['a head with snapshotSeq -2', ['h', 'K/1'], { ...goodHead, snapshotSeq: -2 }],
    ['a head whose snapshot is ahead of its log', ['h', 'K/1'], { ...goodHead, snapshotSeq: 3 }],
    ['a head stored under a number', ['h', 7], goodHead],
    ['a head stored under an empty key', ['h', ''], goodHead],
  ])('%s: open refuses, restores nothing and leaves no connection open', async (_what, storeKey, value) => {
    const dbName = await seeded()
    await putRaw(dbName, [[storeKey, value]])
    await expect(IdbJournalStorage.open({ dbName })).rejects.toSatisfy(rejectsWith('CorruptRecord'))
    expect(await deleteDb(dbName)).toBe('deleted')
  })

  test.each<[string, [IDBValidKey, unknown][]]>([
    ['a record that is not an object', [[['r', 'K/1', 2], 42]]],
    ['a record without requestId', [[['r', 'K/1', 2], { seq: 2, epoch: 1, patch: 0, result: 0 }]]],
    ['a record with seq NaN', [[['r', 'K/1', 2], { ...rec(2), seq: Number.NaN }]]],
    ['a record of another seq (a jump)', [[['r', 'K/1', 2], rec(3)]]],
    ['a record below the seq read from', [[['r', 'K/1', 2], rec(1)]]],
    ['a record with a falling epoch', [[['r', 'K/1', 1], rec(1, 2)]]],
  ])('%s: read refuses', async (_what, writes) => {
    const dbName = await seeded()
    await putRaw(dbName, writes)
    const storage = await IdbJournalStorage.open({ dbName })
    await expect(storage.read('K/1')).rejects.toSatisfy(rejectsWith('CorruptRecord'))
    expect(await storage.read('K/2')).toEqual([])
    await storage.close()
    await deleteDb(dbName)
  })

  test.each<[string, unknown]>([
    ['a snapshot that is not an object', 'snapshot'],
    ['a snapshot with seq -1', { seq: -1, epoch: 1, state: 0 }],
    ['a snapshot without an epoch', { seq: 1, state: 0 }],
  ])('%s: readSnapshot refuses', async (_what, value) => {
    const dbName = await seeded()
    await putRaw(dbName, [[['s', 'K/1'], value]])
    const storage = await IdbJournalStorage.open({ dbName })
    await expect(storage.readSnapshot('K/1')).rejects.toSatisfy(rejectsWith('CorruptRecord'))
    expect(await storage.read('K/1')).toEqual([rec(1), rec(2)])
    await storage.close()
    await deleteDb(dbName)
  })
})
