import { describe, expect, test } from 'vitest'
import { Recovery } from '../../runtime/durability/recovery.ts'
import { RequestTable } from '../../runtime/durability/request-table.ts'
import { MemoryJournalStorage } from '../../runtime/journal/memory-storage.ts'
import { SimulatedClock } from '../../runtime/simulated-clock.ts'
import type { View } from '../../runtime/view.ts'
import type { FetchEnvelope, FetchedEnvelope } from '../../transport/envelope.ts'

/** A recovery read on host h0 with one backup, h1, whose sends are captured. */
function reader(view: { current: View }) {
  const clock = new SimulatedClock()
  const sent: Array<{ to: string; envelope: FetchEnvelope | FetchedEnvelope }> = []
  let ids = 0
  const recovery = new Recovery({
    self: 'h0', clock, storage: new MemoryJournalStorage(), requestsMax: 16, retryMs: 100,
    view: () => view.current,
    adoptView: () => {},
    backupsOf: () => ['h1'],
    needed: () => 1,
    send: (to, envelope) => sent.push({ to, envelope }),
    nextId: () => `h0~${ids++}`,
    localCopy: async () => undefined,
    offer: () => {},
    unsure: () => false,
    waitsForOwner: () => false,
    confirmed: () => {},
  })
  return { clock, sent, recovery }
}

describe('the recovery read', () => {
  test('carries the reader\'s copy once the view moves past the copy\'s last record, even when that happens during the read', async () => {
    const view = { current: { epoch: 3, hosts: ['h0', 'h1'] } as View }
    const { clock, sent, recovery } = reader(view)
    const start = { key: 'Tally/t', seq: 4, epoch: 3, state: { n: 4 }, requests: new RequestTable(16), reminders: new Map() }
    const read = recovery.recover('Tally/t', start)
    // The copy's last record is of the reader's own view: its backup holds it already.
    expect(sent.map((s) => (s.envelope as FetchEnvelope).snapshot)).toEqual([undefined])
    // h1 does not answer; meanwhile a view change (h1 lost its disk and came back) moves on.
    view.current = { epoch: 5, hosts: ['h0', 'h1'] }
    clock.advance(100)
    const resent = sent[1]!.envelope as FetchEnvelope
    expect(resent.epoch).toBe(5)
    expect(resent.snapshot).toMatchObject({ seq: 4, epoch: 3, state: { n: 4 } })
    recovery.received('h1', { v: 1, t: 'fetched', id: resent.id, key: 'Tally/t', lastEpoch: 3, seq: 4, status: 'ok' })
    expect((await read).copy.seq).toBe(4)
  })
})

describe('the recovery read picks the furthest copy', () => {
  test('a copy of a newer epoch wins over a longer one of an older epoch (the stale primary\'s unacknowledged tail)', async () => {
    const view = { current: { epoch: 4, hosts: ['h0', 'h1'] } as View }
    const { sent, recovery } = reader(view)
    // h0's own journal: five records, the last ones written in epoch 2 by a primary that was fenced off.
    const start = { key: 'Tally/t', seq: 5, epoch: 2, state: { n: 5 }, requests: new RequestTable(16), reminders: new Map() }
    const read = recovery.recover('Tally/t', start)
    const fetch = sent[0]!.envelope as FetchEnvelope
    // h1 holds the history the epoch-3 primary had acknowledged: fewer records, a newer epoch.
    const newer = { seq: 3, epoch: 3, state: { n: 30 }, requests: [] }
    recovery.received('h1', { v: 1, t: 'fetched', id: fetch.id, key: 'Tally/t', lastEpoch: 3, seq: 3, status: 'ok', snapshot: newer })
    const { copy } = await read
    expect([copy.seq, copy.epoch, copy.state]).toEqual([3, 3, { n: 30 }])
  })
})
