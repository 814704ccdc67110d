import 'fake-indexeddb/auto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, test, vi } from 'vitest'
import { FileJournalStorage } from '../../runtime/journal/file-storage.ts'
import { IdbJournalStorage } from '../../runtime/journal/idb-storage.ts'
import { MemoryJournalStorage } from '../../runtime/journal/memory-storage.ts'
import { describeConformance, rec } from './conformance.ts'

describeConformance('memory', {
  durable: false,
  async fresh() {
    return { open: async () => new MemoryJournalStorage(), dispose: async () => {} }
  },
})

describeConformance('file', {
  durable: true,
  async fresh(options) {
    const dir = await mkdtemp(join(tmpdir(), 'troupe-journal-'))
    // Small limits: every big write goes in a frame of its own, and a segment of its own.
    const limits = options?.smallLimits ? { batchBytesMax: 1024, segmentBytesMax: 4096 } : {}
    return { open: () => FileJournalStorage.open({ dir, ...limits }), dispose: () => rm(dir, { recursive: true, force: true }) }
  },
})

let dbCount = 0
const deleteDb = (dbName: string): Promise<void> => new Promise<void>((resolve) => {
  const request = indexedDB.deleteDatabase(dbName)
  request.onsuccess = request.onerror = request.onblocked = () => resolve()
})

describeConformance('IndexedDB', {
  durable: true,
  async fresh() {
    const dbName = `journal-test-${++dbCount}`
    return { open: () => IdbJournalStorage.open({ dbName }), dispose: () => deleteDb(dbName) }
  },
})

describe('backend specifics', () => {
  test('memory: an append applies before its promise is awaited', async () => {
    const storage = new MemoryJournalStorage()
    const pending = storage.append('K/1', [rec(1)])
    expect(await storage.read('K/1')).toEqual([rec(1)])
    await pending
  })

  test('IndexedDB: concurrent appends share one readwrite transaction with strict durability', async () => {
    const dbName = `journal-test-${++dbCount}`
    const storage = await IdbJournalStorage.open({ dbName })
    const spy = vi.spyOn(IDBDatabase.prototype, 'transaction')
    await Promise.all(Array.from({ length: 50 }, (_, i) => storage.append(`K/${i}`, [rec(1)])))
    const writes = spy.mock.calls.filter((call) => call[1] === 'readwrite')
    expect(writes).toHaveLength(1)
    expect(writes[0]![2]).toEqual({ durability: 'strict' })
    spy.mockRestore()
    await storage.close()
    await deleteDb(dbName)
  })
})
