import { describe, expect, test } from 'vitest'
import { loadFromJournal, ReplicaStore, type AckStatus } from '../../runtime/durability/replica-store.ts'
import { MemoryJournalStorage } from '../../runtime/journal/memory-storage.ts'
import type { JournalRecord, JournalSnapshot } from '../../runtime/journal/storage.ts'

/** Memory storage whose appends wait until the test lets them happen (or fail, writing nothing), in order. */
class GatedStorage extends MemoryJournalStorage {
  private readonly gates: Array<{ resolve: () => void; reject: (error: Error) => void }> = []

  override append(key: string, records: readonly JournalRecord[]): Promise<void> {
    return new Promise<void>((resolve, reject) => this.gates.push({ resolve, reject })).then(() => super.append(key, records))
  }

  get waiting(): number {
    return this.gates.length
  }

  release(): void {
    this.gates.shift()!.resolve()
  }

  fail(): void {
    this.gates.shift()!.reject(new Error('EIO: injected'))
  }
}

const key = 'Counter/c'
/** The record a primary ships for increment number `seq` (the first one sets the whole state). */
function record(seq: number): JournalRecord {
  const patch = seq === 1 ? [{ op: 'set', path: [], value: { n: 1 } }] : [{ op: 'set', path: ['n'], value: seq }]
  return { seq, epoch: 1, requestId: `r${seq}`, patch, result: seq }
}

function backup(storage = new GatedStorage()) {
  const acks: Array<[number, AckStatus]> = []
  const store = new ReplicaStore({ storage, requestsMax: 64, snapshotEveryRecords: 1000, viewEpoch: () => 1, ack: (_to, _key, seq, status) => acks.push([seq, status]) })
  return { store, storage, acks }
}

const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0))

/** A backup that holds record 1 of `key` durably (loaded, acknowledged). */
async function backupAtOne() {
  const b = backup()
  b.store.receive('p', key, 1, [record(1)], undefined)
  await settle()
  b.storage.release()
  await settle()
  return b
}

describe('a backup applying shipments (ReplicaStore)', () => {
  test('acks a shipment only once its journal holds it; a promotion waits for the append', async () => {
    const { store, storage, acks } = backup()
    store.receive('p', key, 1, [record(1)], undefined)
    await settle()
    expect(storage.waiting).toBe(1)
    expect(acks).toEqual([])
    storage.release()
    await settle()
    expect(acks).toEqual([[1, 'ok']])

    // The copy is loaded now: the next shipment is applied at once, its ack still waits for the disk.
    store.receive('p', key, 1, [record(2)], undefined)
    expect(storage.waiting).toBe(1)
    let taken: { seq: number; state: unknown } | undefined
    const promotion = store.take(key).then((r) => { taken = r })
    await settle()
    expect(acks).toEqual([[1, 'ok']])
    expect(taken).toBeUndefined()
    storage.release()
    await promotion
    expect(acks).toEqual([[1, 'ok'], [2, 'ok']])
    expect(taken).toMatchObject({ seq: 2, state: { n: 2 } })
  })

  test('a failed append sends no ack and drops the copy: the next read has what the journal holds', async () => {
    const { store, storage, acks } = await backupAtOne()
    store.receive('p', key, 1, [record(2)], undefined)
    storage.fail()
    const copy = await store.peek(key)
    expect(acks).toEqual([[1, 'ok']])
    expect(copy).toMatchObject({ seq: 1, state: { n: 1 } })
  })

  test('no ack overtakes an earlier one nor counts records the disk does not hold yet', async () => {
    const { store, storage, acks } = await backupAtOne()
    store.receive('p', key, 1, [record(2)], undefined)
    store.receive('p', key, 1, [record(2)], undefined) // a duplicate: nothing to append, acked as held
    store.receive('p', key, 1, [record(4)], undefined) // a gap: the primary must resync
    await settle()
    expect(acks).toEqual([[1, 'ok']])
    storage.release()
    await settle()
    expect(acks).toEqual([[1, 'ok'], [2, 'ok'], [2, 'ok'], [2, 'resync']])
  })

  test('a shipment from an older epoch than the copy is fenced', async () => {
    const { store, storage, acks } = backup()
    store.receive('p', key, 2, [{ ...record(1), epoch: 2 }], undefined)
    await settle()
    storage.release()
    await settle()
    store.receive('old', key, 1, [record(2)], undefined)
    await settle()
    expect(acks).toEqual([[1, 'ok'], [1, 'stale']])
  })
})

/** Memory storage that installs `installed` the first time records are read, after the snapshot was (a rewrite racing a load). */
class InstallOnFirstRead extends MemoryJournalStorage {
  private pending = true
  constructor(private readonly installed: JournalSnapshot) {
    super()
  }

  override async read(key: string, fromSeq?: number): Promise<JournalRecord[]> {
    if (this.pending) {
      this.pending = false
      await this.installSnapshot(key, this.installed)
    }
    return super.read(key, fromSeq)
  }
}

describe('loadFromJournal', () => {
  test('a snapshot installed between its two reads is read whole, not as an empty copy', async () => {
    const storage = new InstallOnFirstRead({ seq: 2, epoch: 1, state: { state: { n: 2 }, requests: [], reminders: [] } })
    await storage.append(key, [record(1), record(2)])
    const copy = await loadFromJournal(storage, key, 64, undefined)
    expect([copy.seq, copy.epoch, copy.state]).toEqual([2, 1, { n: 2 }])
  })
})

describe('a backup whose copy ends in another history', () => {
  /** A backup holding record 1 of epoch 1 (a primary that was never acknowledged wrote it, say). */
  test('does not append the next primary\'s records to it: it acknowledges nothing and asks for the whole actor', async () => {
    const { store, storage, acks } = await backupAtOne()
    // The primary's history has its own record 1, from epoch 2; its record 2 follows that one.
    const next: JournalRecord = { seq: 2, epoch: 3, requestId: 'x2', patch: [{ op: 'set', path: ['n'], value: 20 }], result: 20 }
    store.receive('p', key, 3, [next], undefined, false, 2)
    await settle()
    expect(storage.waiting).toBe(0)
    expect(acks).toEqual([[1, 'ok'], [0, 'resync']])
    // The whole actor then replaces the copy.
    store.receive('p', key, 3, [], { seq: 2, epoch: 3, state: { n: 20 }, requests: [] })
    await settle()
    expect(await store.peek(key)).toMatchObject({ seq: 2, epoch: 3, state: { n: 20 } })
  })

  test('a record at its own seq from a newer epoch: nothing is acknowledged either', async () => {
    const { store, acks } = await backupAtOne()
    store.receive('p', key, 3, [{ ...record(1), epoch: 2 }, { ...record(2), epoch: 2 }], undefined, false, 0)
    await settle()
    expect(acks).toEqual([[1, 'ok'], [0, 'resync']])
  })

  test('the same history goes on as before: records after a matching epoch are appended', async () => {
    const { store, storage, acks } = await backupAtOne()
    store.receive('p', key, 1, [record(2)], undefined, false, 1)
    await settle()
    storage.release()
    await settle()
    expect(acks).toEqual([[1, 'ok'], [2, 'ok']])
  })
})
