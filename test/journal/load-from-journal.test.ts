import { describe, expect, test } from 'vitest'
import { loadFromJournal } from '../../runtime/durability/replica-store.ts'
import { isTroupeError } from '../../runtime/errors.ts'
import type { JournalRecord, JournalSnapshot, JournalStorage } from '../../runtime/journal/storage.ts'

/**
 * Replay's own checks of what a journal hands back (every backend refuses to write a falling
 * epoch, so a stub serves what a damaged or foreign journal could).
 */

/** A record that changes nothing: replay needs no actor class. */
const rec = (seq: number, epoch: number): JournalRecord => ({ seq, epoch, requestId: `req-${seq}`, patch: [], result: seq })

function served(records: JournalRecord[], snapshot?: JournalSnapshot): JournalStorage {
  return {
    read: async (_key: string, fromSeq = 0) => records.filter((r) => r.seq >= fromSeq),
    readSnapshot: async () => snapshot,
  } as Partial<JournalStorage> as JournalStorage
}

const snapshotAt = (seq: number, epoch: number): JournalSnapshot => ({ seq, epoch, state: { state: 's', requests: [], reminders: [] } })

describe('loadFromJournal: epochs never decrease', () => {
  test('a record whose epoch is below the one before it is CorruptRecord', async () => {
    const load = loadFromJournal(served([rec(1, 2), rec(2, 3), rec(3, 2)]), 'Tally/a', 16, undefined)
    await expect(load).rejects.toSatisfy((e: unknown) => isTroupeError(e, 'CorruptRecord') && /epoch 2 below 3/.test((e as Error).message))
  })

  test('a record whose epoch is below its snapshot\'s is CorruptRecord', async () => {
    const load = loadFromJournal(served([rec(5, 3)], snapshotAt(4, 4)), 'Tally/a', 16, undefined)
    await expect(load).rejects.toSatisfy((e: unknown) => isTroupeError(e, 'CorruptRecord'))
  })

  test('equal and rising epochs load, ending at the last record\'s', async () => {
    const replica = await loadFromJournal(served([rec(5, 4), rec(6, 4), rec(7, 6)], snapshotAt(4, 4)), 'Tally/a', 16, undefined)
    expect([replica.seq, replica.epoch]).toEqual([7, 6])
  })

  test('a seq jump is still CorruptRecord', async () => {
    await expect(loadFromJournal(served([rec(1, 1), rec(3, 1)]), 'Tally/a', 16, undefined))
      .rejects.toSatisfy((e: unknown) => isTroupeError(e, 'CorruptRecord'))
  })
})
