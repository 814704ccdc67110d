import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { Cluster, isTroupeError } from '../index.ts'
import { SelfCaller, Teller } from './fixtures/actors.ts'

const actors = new URL('./fixtures/actors.ts', import.meta.url)

describe('call cycles through real worker threads', () => {
  let cluster: Cluster
  beforeAll(async () => {
    // A short call timeout: a call from a turn still queued after it is refused.
    cluster = await Cluster.start({ actors, hosts: 3, limits: { callTimeoutMs: 1500 } })
  })
  afterAll(async () => {
    await cluster?.stop()
  })

  test('three transfers that wait on each other in a ring (A -> B -> C -> A) give way, and no money is lost or made', async () => {
    const ids = ['ring-a', 'ring-b', 'ring-c']
    const tellers = ids.map((id) => cluster.actor(Teller, id))
    // Each withdraws, pauses so all three are under way, then deposits into the next: a cycle of three.
    // The callers here wait longer than the hosts' call timeout, so only the hosts' refusal can end it.
    const outcomes = await Promise.allSettled(ids.map((id, i) => cluster.call(`Teller/${id}`, 'transferSlowly', [ids[(i + 1) % 3], 10, 100], { timeoutMs: 8000 })))
    const failed = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected')
    // The arrival check sees only two-actor cycles; a deposit left waiting is refused, so at least one gives way.
    expect(failed.length).toBeGreaterThanOrEqual(1)
    for (const f of failed) expect(isTroupeError(f.reason, 'Deadlock')).toBe(true)
    const balances = await Promise.all(tellers.map((t) => t.balance()))
    expect(balances.reduce((a, b) => a + b, 0)).toBe(300)
    // Each ended as one whole: a transfer that went through moved 10, one that failed moved nothing.
    const succeeded = outcomes.map((o) => o.status === 'fulfilled')
    balances.forEach((balance, i) => {
      expect(balance).toBe(100 - (succeeded[i] ? 10 : 0) + (succeeded[(i + 2) % 3] ? 10 : 0))
    })
  })

  test('an actor with a key of 1,000 characters calls an actor on another host, with a request id of 256', async () => {
    // Its calls' ids hold its key and the request id: past 1,024 characters they were dropped as malformed where they arrived, and resent for ever.
    const from = `long-${'x'.repeat(1000 - 'Teller/long-'.length)}`
    const to = ['a', 'b', 'c', 'd', 'e', 'f'].map((s) => `far-${s}`).find((id) => cluster.ownerOf('Teller', id) !== cluster.ownerOf('Teller', from))!
    expect(`Teller/${from}`).toHaveLength(1000)
    expect(await cluster.call(`Teller/${from}`, 'transferSlowly', [to, 10, 0], { requestId: 'r'.repeat(256) })).toBe(90)
    expect(await cluster.actor(Teller, to).balance()).toBe(110)
    expect(await cluster.actor(Teller, from).balance()).toBe(90)
  })

  test('a write turn calling its own reentrant method, with calls queued behind it, is no deadlock: the reentrant call starts at once', async () => {
    const self = cluster.actor(SelfCaller, 'queued')
    // Before, the second and third waited in the mailbox ahead of the first one's reentrant call: all three hung.
    const seen = await Promise.all([self.outer(), self.outer(), self.outer()])
    expect(seen).toEqual([0, 1, 2])
  })

  test('a reentrant turn calling a write method of its own actor, directly or through another actor, is no deadlock', async () => {
    const self = cluster.actor(SelfCaller, 'reentrant')
    expect(await self.incFromReentrant()).toBe(1)
    expect(await self.incVia('bouncer')).toBe(2)
    // A write turn waiting on a write of its own actor is one, refused at once.
    const refused = await self.incFromWrite().catch((error: unknown) => error)
    expect(isTroupeError(refused, 'Deadlock')).toBe(true)
    expect(await self.inc()).toBe(3)
  })
})
