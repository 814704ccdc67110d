import { describe, expect, test } from 'vitest'
import { ActorLog, type LogPorts } from '../../runtime/durability/actor-log.ts'
import { ackRule } from '../../runtime/durability/consistency.ts'
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

/** A `local` log (journal on this host, no backup needed) whose journal writes complete at once, with backups b and c. */
function localHarness(start = 0) {
  const clock = new SimulatedClock()
  const resynced: string[] = []
  const storage = { append: async () => undefined, writeSnapshot: async () => undefined, compact: async () => undefined } as unknown as LogPorts['storage']
  const ports: LogPorts = {
    storage, ship: () => undefined, resync: (backup) => resynced.push(backup), clock, retryMs: 100,
    failed: () => undefined, snapshotEveryRecords: 1000, snapshot: () => ({}),
  }
  const log = new ActorLog('K/1', { seq: start, epoch: 1, requests: new RequestTable(16) }, { local: true, backups: 0 }, ['b', 'c'], ports)
  const append = (seq: number): void => log.append({ seq, epoch: 1, requestId: `r${seq}`, patch: [], result: seq })
  return { clock, log, resynced, append }
}

/** Settles `promise` as a string, after the microtasks already queued. */
async function state(promise: Promise<void> | undefined): Promise<string> {
  if (promise === undefined) return 'at once'
  let outcome = 'pending'
  promise.then(() => { outcome = 'resolved' }, (error: { kind?: string }) => { outcome = `rejected ${error.kind}` })
  await new Promise((resolve) => setTimeout(resolve, 0))
  return outcome
}

describe('ActorLog: a reply gated on its call\'s own level', () => {
  test('on a type that needs no backup, a strong call waits for every backup; one the reactivation found holding the history counts at once', async () => {
    const { clock, log, resynced } = localHarness(3)
    log.confirm(3, 1, ['b'])
    expect(await state(log.whenDurable(3, 'quorum'))).toBe('at once')
    const strong = log.whenDurable(3, 'strong')
    expect(await state(strong)).toBe('pending')
    // Nothing else would ship to a backup that lags: the call's wait arms the retry.
    clock.advance(100)
    expect(resynced).toContain('c')
    log.acknowledged('c', 3)
    expect(await state(strong)).toBe('resolved')
  })

  test('the level, not its count, is what a waiter needs: a backup that leaves the view is not waited for', async () => {
    const { log, append } = localHarness()
    append(1)
    const strong = log.whenDurable(1, 'strong')
    log.acknowledged('b', 1)
    expect(await state(strong)).toBe('pending')
    log.retarget({ local: true, backups: 0 }, ['b']) // c left the view
    expect(await state(strong)).toBe('resolved')
  })

  test('a weaker call is answered while the type\'s level still waits', async () => {
    const { log, append } = localHarness()
    append(1)
    const typeLevel = log.whenDurable(1)
    // The journal write has not completed yet: `memory` does not wait for it, `local` does.
    expect(log.whenDurable(1, 'memory')).toBeUndefined()
    expect(typeLevel).toBeInstanceOf(Promise)
    expect(await state(typeLevel)).toBe('resolved')
  })

  test('retiring the log (the activation passivated) redirects the replies still waiting for more than the type\'s level', async () => {
    const { log, append } = localHarness()
    append(1)
    const strong = log.whenDurable(1, 'strong')
    log.retire()
    expect(await state(strong)).toBe('rejected HostUnavailable')
  })
})

describe('ActorLog: the acknowledgements a level counts', () => {
  test('quorum is a majority of the owners (primary included): with one backup it needs that backup', () => {
    // Owners = backups + 1; the primary is one of the majority.
    expect([1, 2, 3, 4, 5, 6].map((backups) => ackRule('quorum', backups).backups)).toEqual([1, 1, 2, 2, 3, 3])
    expect(ackRule('quorum', 0)).toEqual({ local: true, backups: 0 })
  })

  test('a quorum log with one backup holds its reply until that backup acknowledges', async () => {
    const ports: LogPorts = {
      storage: undefined, ship: () => undefined, resync: () => undefined, clock: new SimulatedClock(), retryMs: 100,
      failed: () => undefined, snapshotEveryRecords: 1000, snapshot: () => ({}),
    }
    const rule = ackRule('quorum', 1)
    const log = new ActorLog('K/1', { seq: 0, epoch: 1, requests: new RequestTable(16) }, { local: false, backups: rule.backups }, ['b'], ports)
    log.append({ seq: 1, epoch: 1, requestId: 'r1', patch: [], result: 1 })
    const waiting = log.whenDurable(1)
    expect(await state(waiting)).toBe('pending')
    log.acknowledged('b', 1)
    expect(await state(waiting)).toBe('resolved')
  })

  test('an acknowledgement covers the records up to its seq, never a later one', async () => {
    const { log, append } = harness(['b', 'c'])
    append(1)
    append(2)
    const second = log.whenDurable(2)
    log.acknowledged('b', 1)
    log.acknowledged('c', 1)
    expect(log.durableSeq).toBe(1)
    expect(await state(second)).toBe('pending')
    log.acknowledged('b', 2)
    expect(await state(second)).toBe('pending')
    log.acknowledged('c', 2)
    expect(await state(second)).toBe('resolved')
  })
})
