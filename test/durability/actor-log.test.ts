import { describe, expect, test } from 'vitest'
import { ActorLog, type LogPorts } from '../../runtime/durability/actor-log.ts'
import { RequestTable } from '../../runtime/durability/request-table.ts'
import { SimulatedClock } from '../../runtime/simulated-clock.ts'

/** A log with no local journal (the rule asks only for backups) and a record of what it sent. */
function harness(backups: string[]) {
  const clock = new SimulatedClock()
  const shipped: string[] = []
  const resynced: string[] = []
  const ports: LogPorts = {
    storage: undefined,
    ship: (backup, _key, records) => shipped.push(`${backup}:${records.map((r) => r.seq).join(',')}`),
    resync: (backup) => resynced.push(backup),
    clock,
    retryMs: 100,
    failed: () => undefined,
    snapshotEveryRecords: 1000,
    snapshot: () => ({}),
  }
  const log = new ActorLog('K/1', { seq: 0, epoch: 1, requests: new RequestTable(16) }, { local: false, backups: backups.length }, backups, ports)
  const append = (seq: number): void => log.append({ seq, epoch: 1, requestId: `r${seq}`, patch: [], result: seq })
  return { clock, log, shipped, resynced, append }
}

describe('ActorLog', () => {
  test('a backup that left the list and came back counts as holding nothing: the retry gives it the whole actor', () => {
    const { clock, log, resynced, append } = harness(['b', 'c'])
    append(1)
    append(2)
    log.acknowledged('b', 2)
    log.acknowledged('c', 2)
    expect(log.durableSeq).toBe(2)
    log.retarget({ local: false, backups: 1 }, ['c']) // b leaves the view (it failed)
    log.retarget({ local: false, backups: 2 }, ['b', 'c']) // a replacement with b's id joins, empty
    clock.advance(100)
    expect(resynced).toEqual(['b'])
    log.acknowledged('b', 2)
    clock.advance(1000)
    expect(resynced).toEqual(['b'])
  })

  test('retire (the activation passivated): one last resync of each lagging backup, then no more retries', () => {
    const { clock, log, resynced, append } = harness(['b', 'c'])
    append(1)
    log.acknowledged('b', 1)
    log.acknowledged('c', 1)
    log.retarget({ local: false, backups: 2 }, ['b', 'd']) // d is new to the actor
    log.retire()
    expect(resynced).toEqual(['d'])
    clock.advance(10_000)
    expect(resynced).toEqual(['d'])
  })
})
