import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { AssertionError } from '../../runtime/assert.ts'
import { isTroupeError } from '../../runtime/errors.ts'
import type { JournalRecord, JournalStorage } from '../../runtime/journal/storage.ts'

/** One backend under test: `fresh()` gives a new, empty storage location. */
export interface StorageHarness {
  /**
   * A new location; `open()` opens it (again, for durable backends: a reopen after close).
   * `smallLimits`: a backend with size limits (batch and segment bytes) opens with them below 4 KiB;
   * one without any ignores it.
   */
  fresh(options?: { smallLimits?: boolean }): Promise<{ open(): Promise<JournalStorage>; dispose(): Promise<void> }>
  /** Whether a closed storage can be reopened with its contents (file, IndexedDB). */
  durable: boolean
}

/** A record of `key` at `seq`; its values use what structured clone supports. */
export function rec(seq: number, epoch = 1, patch: unknown = { n: seq }): JournalRecord {
  return { seq, epoch, requestId: `req-${seq}`, patch, result: seq }
}

const rich = (): unknown => ({
  map: new Map<string, unknown>([['a', 1], ['b', [1, 2, { c: 3 }]]]),
  set: new Set([1, 'two', 3n]),
  date: new Date(86_400_000),
  nothing: undefined,
  big: 2n ** 70n,
  nested: { deep: { array: [null, undefined, -0, 'x'] } },
})

/** The shared suite every journal storage backend runs. */
export function describeConformance(name: string, harness: StorageHarness): void {
  describe(`${name} journal storage conformance`, () => {
    let location: Awaited<ReturnType<StorageHarness['fresh']>>
    let storage: JournalStorage
    beforeEach(async () => { location = await harness.fresh(); storage = await location.open() })
    afterEach(async () => { await storage.close(); await location.dispose() })
    const reopen = async (): Promise<void> => { await storage.close(); storage = await location.open() }

    test('round-trips records whose values use structured-clone types', async () => {
      const records = [rec(1, 1, rich()), { ...rec(2), result: rich() }]
      await storage.append('Counter/alice', records)
      expect(await storage.read('Counter/alice')).toEqual(records)
      if (harness.durable) { await reopen(); expect(await storage.read('Counter/alice')).toEqual(records) }
    })

    test('reads records in seq order, from a given seq, per key', async () => {
      await storage.append('A/1', [rec(1), rec(2)])
      await storage.append('B/1', [rec(1, 3)])
      await storage.append('A/1', [rec(3), rec(4, 2)])
      expect((await storage.read('A/1')).map((r) => r.seq)).toEqual([1, 2, 3, 4])
      expect((await storage.read('A/1', 3)).map((r) => r.seq)).toEqual([3, 4])
      expect(await storage.read('B/1')).toEqual([rec(1, 3)])
      expect(await storage.read('C/none')).toEqual([])
      expect((await storage.keys()).sort()).toEqual(['A/1', 'B/1'])
    })

    test('refuses a gap, a repeat, a wrong first seq and a falling epoch, changing nothing', async () => {
      await expect(storage.append('K/1', [rec(2)])).rejects.toThrow(AssertionError)
      await storage.append('K/1', [rec(1, 5)])
      await expect(storage.append('K/1', [rec(3, 5)])).rejects.toThrow(AssertionError)
      await expect(storage.append('K/1', [rec(1, 5)])).rejects.toThrow(AssertionError)
      await expect(storage.append('K/1', [rec(2, 4)])).rejects.toThrow(AssertionError)
      await expect(storage.append('K/1', [rec(2, 5), rec(4, 5)])).rejects.toThrow(AssertionError)
      await expect(storage.append('K/1', [])).rejects.toThrow(AssertionError)
      await storage.append('K/1', [rec(2, 5)])
      expect((await storage.read('K/1')).map((r) => r.seq)).toEqual([1, 2])
    })

    const refused = (write: Promise<unknown>): Promise<void> => expect(write).rejects.toThrow(AssertionError)

    test('refuses records with a bad seq, epoch or requestId, or no records at all, writing nothing', async () => {
      await storage.append('K/1', [rec(1)])
      const bad: unknown[] = [
        { ...rec(2), seq: 1.5 }, { ...rec(2), seq: Number.NaN }, { ...rec(2), seq: '2' }, { ...rec(2), seq: -1 },
        { ...rec(2), seq: 2 ** 53 }, { ...rec(2), seq: undefined }, { ...rec(2), epoch: -1 }, { ...rec(2), epoch: 1.5 },
        { ...rec(2), epoch: Number.NaN }, { ...rec(2), epoch: Number.POSITIVE_INFINITY }, { ...rec(2), epoch: '1' },
        { ...rec(2), requestId: 7 }, { ...rec(2), requestId: undefined }, null, 'rec-2', 2,
      ]
      for (const r of bad) await refused(storage.append('K/1', [r as JournalRecord]))
      await refused(storage.append('K/1', [rec(2), { ...rec(3), seq: 3.5 }])) // a bad record refuses the whole append
      for (const records of [undefined, null, 'records', { 0: rec(2), length: 1 }]) await refused(storage.append('K/1', records as never))
      // Refused at once: a bad append between two good ones leaves them be.
      const [before, badOne, after] = await Promise.allSettled([
        storage.append('K/1', [rec(2)]), storage.append('K/1', [{ ...rec(3), seq: Number.NaN }]), storage.append('K/1', [rec(3)])])
      expect([before.status, badOne.status, after.status]).toEqual(['fulfilled', 'rejected', 'fulfilled'])
      expect(await storage.read('K/1')).toEqual([rec(1), rec(2), rec(3)])
      expect(await storage.keys()).toEqual(['K/1'])
      if (harness.durable) await reopen()
      await storage.append('K/1', [rec(4)])
      expect(await storage.read('K/1')).toEqual([rec(1), rec(2), rec(3), rec(4)])
    })

    test('refuses a bad key on every write: empty, not a string, a lone surrogate, over 65,535 UTF-8 bytes', async () => {
      const badKeys: unknown[] = [
        '', 7, undefined, null, ['K/1'], 'K/\ud800', 'K/\udc00x', '\udfff\ud800',
        'x'.repeat(65_536), '\u00e9'.repeat(32_768), '\u20ac'.repeat(21_846), '\u{1f600}'.repeat(16_384),
      ]
      for (const key of badKeys) {
        const k = key as string
        await refused(storage.append(k, [rec(1)]))
        await refused(storage.writeSnapshot(k, { seq: 0, epoch: 0, state: 0 }))
        await refused(storage.installSnapshot(k, { seq: 5, epoch: 1, state: 0 }))
        await refused(storage.compact(k, 0))
      }
      expect(await storage.keys()).toEqual([])
      // The limit itself is fine, counted in UTF-8 bytes (2, 3 and 4 bytes per character).
      const longest = ['x'.repeat(65_535), '\u00e9'.repeat(32_767) + 'x', '\u20ac'.repeat(21_845), '\u{1f600}'.repeat(16_383) + 'xyz']
      for (const key of longest) await storage.append(key, [rec(1)])
      await storage.writeSnapshot(longest[0]!, { seq: 1, epoch: 1, state: 'one' })
      if (harness.durable) await reopen()
      for (const key of longest) expect(await storage.read(key)).toEqual([rec(1)])
      expect(await storage.readSnapshot(longest[0]!)).toEqual({ seq: 1, epoch: 1, state: 'one' })
      expect((await storage.keys()).length).toBe(4)
      await storage.append(longest[1]!, [rec(2)])
    })

    test('refuses snapshots with a bad seq or epoch, or that are not objects, writing nothing', async () => {
      await storage.append('K/1', [rec(1), rec(2)])
      const bad: unknown[] = [
        { seq: 1.5, epoch: 1, state: 0 }, { seq: Number.NaN, epoch: 1, state: 0 }, { seq: '1', epoch: 1, state: 0 },
        { seq: -1, epoch: 1, state: 0 }, { seq: 1, epoch: -1, state: 0 }, { seq: 1, epoch: Number.NaN, state: 0 },
        { seq: 1, epoch: '1', state: 0 }, { epoch: 1, state: 0 }, null, undefined, 'snapshot',
      ]
      for (const snapshot of bad) {
        await refused(storage.writeSnapshot('K/1', snapshot as never))
        await refused(storage.installSnapshot('K/1', snapshot as never))
      }
      expect(await storage.readSnapshot('K/1')).toBeUndefined()
      expect(await storage.read('K/1')).toEqual([rec(1), rec(2)])
      if (harness.durable) await reopen()
      await storage.writeSnapshot('K/1', { seq: 1, epoch: 1, state: 'one' })
      await storage.append('K/1', [rec(3)])
      expect(await storage.readSnapshot('K/1')).toEqual({ seq: 1, epoch: 1, state: 'one' })
    })

    test('refuses compact and read with a seq that is not an integer >= 0', async () => {
      await storage.append('K/1', [rec(1), rec(2)])
      await storage.writeSnapshot('K/1', { seq: 2, epoch: 1, state: 'two' })
      for (const bad of [Number.NaN, 1.5, -1, '1', undefined, null, Number.POSITIVE_INFINITY]) {
        if (bad !== undefined) await refused(storage.read('K/1', bad as number))
        await refused(storage.compact('K/1', bad as number))
      }
      await refused(storage.read(7 as never))
      await refused(storage.readSnapshot(7 as never))
      expect(await storage.read('K/1')).toEqual([rec(1), rec(2)])
      if (harness.durable) await reopen()
      expect(await storage.read('K/1')).toEqual([rec(1), rec(2)])
      await storage.compact('K/1', 1)
      expect(await storage.read('K/1')).toEqual([rec(2)])
    })

    test('takes records and snapshots larger than its batch and segment limits, between small writes', async () => {
      await storage.close()
      await location.dispose()
      location = await harness.fresh({ smallLimits: true })
      storage = await location.open()
      const big = (tag: string): string => tag.repeat(16 * 1024)
      await Promise.all([
        storage.append('K/1', [rec(1)]), storage.append('K/1', [rec(2, 1, big('a'))]), storage.append('K/2', [rec(1)]),
        storage.writeSnapshot('K/1', { seq: 2, epoch: 1, state: big('s') }), storage.append('K/1', [rec(3)]),
      ])
      await storage.append('K/1', [rec(4, 1, big('b')), rec(5, 1, big('c'))])
      await storage.append('K/2', [rec(2)])
      const expected = [rec(1), rec(2, 1, big('a')), rec(3), rec(4, 1, big('b')), rec(5, 1, big('c'))]
      expect(await storage.read('K/1')).toEqual(expected)
      if (harness.durable) await reopen()
      expect(await storage.read('K/1')).toEqual(expected)
      expect(await storage.read('K/2')).toEqual([rec(1), rec(2)])
      expect(await storage.readSnapshot('K/1')).toEqual({ seq: 2, epoch: 1, state: big('s') })
      await storage.compact('K/1', 2)
      await storage.append('K/1', [rec(6)])
      expect((await storage.read('K/1')).map((r) => r.seq)).toEqual([3, 4, 5, 6])
    })

    test('accepts concurrent appends to one key in seq order', async () => {
      await Promise.all([1, 2, 3, 4].map((seq) => storage.append('K/1', [rec(seq)])))
      expect((await storage.read('K/1')).map((r) => r.seq)).toEqual([1, 2, 3, 4])
    })

    test('refuses a value it cannot journal with Unjournalable, appending nothing', async () => {
      const bad = storage.append('K/1', [rec(1, 1, { fn: () => 1 })])
      await expect(bad).rejects.toSatisfy((e: unknown) => isTroupeError(e, 'Unjournalable'))
      await storage.append('K/1', [rec(1)])
      expect(await storage.read('K/1')).toEqual([rec(1)])
    })

    test('keeps its own copies: later mutation of inputs or outputs changes nothing', async () => {
      const input = rec(1, 1, { list: [1] })
      await storage.append('K/1', [input]);
      (input.patch as { list: number[] }).list.push(2)
      const [out] = await storage.read('K/1');
      (out!.patch as { list: number[] }).list.push(3)
      expect(await storage.read('K/1')).toEqual([rec(1, 1, { list: [1] })])
    })

    test('stores the latest snapshot and refuses one ahead of the log or going back', async () => {
      expect(await storage.readSnapshot('K/1')).toBeUndefined()
      await storage.append('K/1', [rec(1), rec(2), rec(3)])
      await storage.writeSnapshot('K/1', { seq: 2, epoch: 1, state: rich() })
      expect(await storage.readSnapshot('K/1')).toEqual({ seq: 2, epoch: 1, state: rich() })
      await expect(storage.writeSnapshot('K/1', { seq: 4, epoch: 1, state: 0 })).rejects.toThrow(AssertionError)
      await expect(storage.writeSnapshot('K/1', { seq: 1, epoch: 1, state: 0 })).rejects.toThrow(AssertionError)
      await storage.writeSnapshot('K/1', { seq: 3, epoch: 1, state: 'three' })
      expect(await storage.readSnapshot('K/1')).toEqual({ seq: 3, epoch: 1, state: 'three' })
    })

    test('compacts only what a snapshot covers, and seq continues after it', async () => {
      await storage.append('K/1', [rec(1), rec(2), rec(3), rec(4)])
      await expect(storage.compact('K/1', 2)).rejects.toThrow(AssertionError)
      await storage.writeSnapshot('K/1', { seq: 3, epoch: 1, state: 'at 3' })
      await expect(storage.compact('K/1', 4)).rejects.toThrow(AssertionError)
      await storage.compact('K/1', 3)
      expect((await storage.read('K/1')).map((r) => r.seq)).toEqual([4])
      await storage.writeSnapshot('K/1', { seq: 4, epoch: 1, state: 'at 4' })
      await storage.compact('K/1', 4)
      expect(await storage.read('K/1')).toEqual([])
      await expect(storage.append('K/1', [rec(4)])).rejects.toThrow(AssertionError)
      await storage.append('K/1', [rec(5)])
      expect(await storage.read('K/1')).toEqual([rec(5)])
      expect(await storage.keys()).toEqual(['K/1'])
    })

    test('installs a snapshot ahead of an empty key; the next append must be its seq + 1', async () => {
      await storage.installSnapshot('K/1', { seq: 10, epoch: 2, state: rich() })
      expect(await storage.readSnapshot('K/1')).toEqual({ seq: 10, epoch: 2, state: rich() })
      expect(await storage.read('K/1')).toEqual([])
      expect(await storage.keys()).toEqual(['K/1'])
      await expect(storage.append('K/1', [rec(1, 2)])).rejects.toThrow(AssertionError)
      await expect(storage.append('K/1', [rec(10, 2)])).rejects.toThrow(AssertionError)
      await expect(storage.append('K/1', [rec(12, 2)])).rejects.toThrow(AssertionError)
      await expect(storage.append('K/1', [rec(11, 1)])).rejects.toThrow(AssertionError)
      await storage.append('K/1', [rec(11, 2)])
      expect(await storage.read('K/1')).toEqual([rec(11, 2)])
      if (harness.durable) {
        await reopen()
        expect(await storage.readSnapshot('K/1')).toEqual({ seq: 10, epoch: 2, state: rich() })
        expect(await storage.read('K/1')).toEqual([rec(11, 2)])
        await expect(storage.append('K/1', [rec(11, 2)])).rejects.toThrow(AssertionError)
        await storage.append('K/1', [rec(12, 2)])
      }
    })

    test('installs a snapshot ahead of an existing log: the old records are gone, also after reopen', async () => {
      await storage.append('K/1', [rec(1), rec(2), rec(3)])
      await storage.append('K/2', [rec(1)])
      await storage.writeSnapshot('K/1', { seq: 2, epoch: 1, state: 'at 2' })
      await storage.installSnapshot('K/1', { seq: 20, epoch: 3, state: 'at 20' })
      expect(await storage.read('K/1')).toEqual([])
      expect(await storage.readSnapshot('K/1')).toEqual({ seq: 20, epoch: 3, state: 'at 20' })
      await expect(storage.append('K/1', [rec(4, 3)])).rejects.toThrow(AssertionError)
      await expect(storage.writeSnapshot('K/1', { seq: 3, epoch: 3, state: 'back' })).rejects.toThrow(AssertionError)
      if (harness.durable) {
        await reopen()
        expect(await storage.read('K/1')).toEqual([])
        expect(await storage.readSnapshot('K/1')).toEqual({ seq: 20, epoch: 3, state: 'at 20' })
        await expect(storage.append('K/1', [rec(4, 3)])).rejects.toThrow(AssertionError)
      }
      await storage.append('K/1', [rec(21, 3)])
      expect(await storage.read('K/1')).toEqual([rec(21, 3)])
      expect(await storage.read('K/2')).toEqual([rec(1)])
      if (harness.durable) {
        await reopen()
        expect(await storage.read('K/1')).toEqual([rec(21, 3)])
        expect(await storage.read('K/2')).toEqual([rec(1)])
        expect((await storage.keys()).sort()).toEqual(['K/1', 'K/2'])
      }
    })

    test('refuses an installed snapshot with an older epoch, or behind the log in the same epoch, changing nothing', async () => {
      await storage.append('K/1', [rec(1, 5), rec(2, 5)])
      await expect(storage.installSnapshot('K/1', { seq: 10, epoch: 4, state: 0 })).rejects.toThrow(AssertionError)
      await expect(storage.installSnapshot('K/1', { seq: 1, epoch: 5, state: 0 })).rejects.toThrow(AssertionError)
      await storage.installSnapshot('K/2', { seq: 4, epoch: 7, state: 0 })
      await expect(storage.installSnapshot('K/2', { seq: 9, epoch: 6, state: 0 })).rejects.toThrow(AssertionError)
      await expect(storage.installSnapshot('K/1', { seq: -1, epoch: 5, state: 0 })).rejects.toThrow(AssertionError)
      expect(await storage.read('K/1')).toEqual([rec(1, 5), rec(2, 5)])
      expect(await storage.readSnapshot('K/1')).toBeUndefined()
      expect(await storage.readSnapshot('K/2')).toEqual({ seq: 4, epoch: 7, state: 0 })
      await storage.append('K/1', [rec(3, 5)])
      // At the log's head in the same epoch, or behind it with a newer epoch (superseded history): accepted.
      await storage.installSnapshot('K/1', { seq: 3, epoch: 5, state: 'at 3' })
      await storage.append('K/1', [rec(4, 5)])
      await storage.installSnapshot('K/1', { seq: 3, epoch: 6, state: 'new history' })
      expect(await storage.read('K/1')).toEqual([])
      await storage.append('K/1', [rec(4, 6)])
      if (harness.durable) await reopen()
      expect(await storage.read('K/1')).toEqual([rec(4, 6)])
      expect(await storage.readSnapshot('K/1')).toEqual({ seq: 3, epoch: 6, state: 'new history' })
    })

    test('after an install, appends, snapshots and compaction go on as usual', async () => {
      await storage.append('K/1', [rec(1), rec(2)])
      const queued = storage.append('K/1', [rec(3)])
      const installed = storage.installSnapshot('K/1', { seq: 5, epoch: 1, state: 'at 5' })
      const after = storage.append('K/1', [rec(6), rec(7)])
      await Promise.all([queued, installed, after])
      await storage.append('K/1', [rec(8)])
      expect((await storage.read('K/1')).map((r) => r.seq)).toEqual([6, 7, 8])
      await expect(storage.compact('K/1', 6)).rejects.toThrow(AssertionError)
      await storage.compact('K/1', 5)
      await storage.writeSnapshot('K/1', { seq: 7, epoch: 1, state: 'at 7' })
      await storage.compact('K/1', 7)
      expect(await storage.read('K/1')).toEqual([rec(8)])
      if (harness.durable) await reopen()
      expect(await storage.read('K/1')).toEqual([rec(8)])
      expect(await storage.readSnapshot('K/1')).toEqual({ seq: 7, epoch: 1, state: 'at 7' })
      await storage.installSnapshot('K/1', { seq: 100, epoch: 2, state: 'at 100' })
      await storage.append('K/1', [rec(101, 2)])
      if (harness.durable) await reopen()
      expect(await storage.read('K/1')).toEqual([rec(101, 2)])
      expect(await storage.readSnapshot('K/1')).toEqual({ seq: 100, epoch: 2, state: 'at 100' })
    })

    // Only durable backends reopen: the test is not registered for the memory backend (not skipped).
    if (harness.durable) test('reopens with every acknowledged record, snapshot, compaction and head', async () => {
      await storage.append('K/1', [rec(1), rec(2), rec(3)])
      await storage.append('K/2', [rec(1, 7)])
      await storage.writeSnapshot('K/1', { seq: 2, epoch: 1, state: new Map([[1, 2]]) })
      await storage.compact('K/1', 2)
      await reopen()
      expect(await storage.read('K/1')).toEqual([rec(3)])
      expect(await storage.read('K/2')).toEqual([rec(1, 7)])
      expect(await storage.readSnapshot('K/1')).toEqual({ seq: 2, epoch: 1, state: new Map([[1, 2]]) })
      expect((await storage.keys()).sort()).toEqual(['K/1', 'K/2'])
      await expect(storage.append('K/1', [rec(3)])).rejects.toThrow(AssertionError)
      await expect(storage.append('K/2', [rec(2, 6)])).rejects.toThrow(AssertionError)
      await storage.append('K/1', [rec(4)])
      await storage.append('K/2', [rec(2, 7)])
      await reopen()
      expect((await storage.read('K/1')).map((r) => r.seq)).toEqual([3, 4])
    })

    test('makes 1,000 concurrent appends over 100 keys all durable and in order', async () => {
      const keys = Array.from({ length: 100 }, (_, i) => `Counter/k${i}`)
      const writes: Promise<void>[] = []
      for (let seq = 1; seq <= 10; seq++) for (const key of keys) writes.push(storage.append(key, [rec(seq, 1, { key, seq })]))
      await Promise.all(writes)
      if (harness.durable) await reopen()
      expect((await storage.keys()).length).toBe(100)
      for (const key of keys) {
        const read = await storage.read(key)
        expect(read.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
        expect(read[9]!.patch).toEqual({ key, seq: 10 })
      }
    })

    test('refuses use after close', async () => {
      await storage.close()
      await expect(storage.read('K/1')).rejects.toThrow(AssertionError)
      storage = await location.open()
    })
  })
}
