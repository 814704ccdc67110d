import { describe, expect, test } from 'vitest'
import { isTroupeError } from '../../runtime/errors.ts'
import { seededRandom } from '../../runtime/random.ts'
import { SimulatedClock } from '../../runtime/simulated-clock.ts'
import { SimulatedNetwork, type SimulatedNetworkOptions } from '../../transport/simulated.ts'
import type { PeerId, Transport } from '../../transport/transport.ts'
import { call, Recorder } from './conformance.ts'

type Faults = Omit<SimulatedNetworkOptions, 'clock' | 'random'>

function setup(faults: Faults = {}, seed = 42) {
  const clock = new SimulatedClock()
  const network = new SimulatedNetwork({ clock, random: seededRandom(seed), ...faults })
  const [a, b, c]: Transport[] = [network.connect('a'), network.connect('b'), network.connect('c')]
  if (!a || !b || !c) throw new Error('unreachable')
  return { clock, network, a, b, c, ra: new Recorder(a), rb: new Recorder(b), rc: new Recorder(c) }
}

/** Sends `count` envelopes from `from` to `to`, each in its own tick (so each is its own frame). */
async function sendEach(from: Transport, to: PeerId, count: number, prefix = 'm'): Promise<void> {
  for (let i = 0; i < count; i++) {
    from.send(to, call(`${prefix}${i}`))
    await Promise.resolve()
  }
}

describe('SimulatedNetwork', () => {
  test('nothing arrives until the simulated clock moves, then it arrives after the delay', async () => {
    const { clock, a, rb } = setup({ delayMsMin: 7, delayMsMax: 7 })
    a.send('b', call('m0'))
    for (let i = 0; i < 10; i++) await Promise.resolve()
    expect(rb.envelopes).toEqual([])
    expect(clock.pendingTimers()).toBe(1)
    clock.advance(6)
    expect(rb.envelopes).toEqual([])
    clock.advance(1)
    expect(rb.ids()).toEqual(['m0'])
    expect(clock.now()).toBe(7)
  })

  test('with dropProbability 1 nothing arrives', async () => {
    const { clock, network, a, rb } = setup({ dropProbability: 1 })
    await sendEach(a, 'b', 10)
    for (let i = 0; i < 5; i++) a.send('b', call(`burst${i}`))
    await clock.run()
    expect(rb.envelopes).toEqual([])
    expect(network.stats()).toMatchObject({ dropped: 15, delivered: 0 })
  })

  test('with duplicateProbability 1 each envelope arrives twice', async () => {
    const { clock, network, a, rb } = setup({ duplicateProbability: 1 })
    await sendEach(a, 'b', 3)
    await clock.run()
    expect([...rb.ids()].sort()).toEqual(['m0', 'm0', 'm1', 'm1', 'm2', 'm2'])
    const copies = rb.envelopes.filter((e) => e.envelope.id === 'm0')
    expect(copies[0]!.envelope).not.toBe(copies[1]!.envelope)
    expect(network.stats()).toMatchObject({ duplicated: 3, delivered: 6 })
  })

  test('a partition blocks both directions, spares other links, and heal restores delivery', async () => {
    const { clock, network, a, b, c, ra, rb, rc } = setup()
    network.partition(['a'], ['b', 'c'])
    a.send('b', call('ab'))
    b.send('a', call('ba'))
    c.send('a', call('ca'))
    b.send('c', call('bc'))
    await clock.run()
    expect(ra.envelopes).toEqual([])
    expect(rb.envelopes).toEqual([])
    expect(rc.ids()).toEqual(['bc'])
    expect(network.stats().partitioned).toBe(3)
    network.heal()
    a.send('b', call('ab2'))
    b.send('a', call('ba2'))
    await clock.run()
    expect(rb.ids()).toEqual(['ab2'])
    expect(ra.ids()).toEqual(['ba2'])
  })

  test('a partition made while a frame is in flight loses that frame', async () => {
    const { clock, network, a, rb } = setup({ delayMsMin: 10, delayMsMax: 10 })
    a.send('b', call('inflight'))
    await clock.run(5)
    network.partition(['a'], ['b'])
    await clock.run()
    expect(rb.envelopes).toEqual([])
    expect(network.stats().partitioned).toBe(1)
  })

  test('a one-way partition blocks one direction only', async () => {
    const { clock, network, a, b, ra, rb } = setup()
    network.partitionOneWay('a', 'b')
    expect(network.reachable('a', 'b')).toBe(false)
    expect(network.reachable('b', 'a')).toBe(true)
    a.send('b', call('ab'))
    b.send('a', call('ba'))
    await clock.run()
    expect(rb.envelopes).toEqual([])
    expect(ra.ids()).toEqual(['ba'])
  })

  test('random delays reorder frames on one link (fixed seed)', async () => {
    const { clock, network, a, rb } = setup({ delayMsMin: 1, delayMsMax: 50 }, 7)
    await sendEach(a, 'b', 20)
    await clock.run()
    const order = rb.ids().map((id) => Number(id.slice(1)))
    expect([...order].sort((x, y) => x - y)).toEqual([...Array(20).keys()])
    expect(order.some((n, i) => i > 0 && n < order[i - 1]!)).toBe(true)
    expect(network.stats().delayed).toBeGreaterThan(0)
  })

  test('with reorder off, random delays keep each link in order', async () => {
    const { clock, a, rb } = setup({ delayMsMin: 1, delayMsMax: 50, reorder: false }, 7)
    await sendEach(a, 'b', 20)
    await clock.run()
    expect(rb.ids()).toEqual([...Array(20).keys()].map((i) => `m${i}`))
  })

  test('one seed gives an identical delivery trace; another seed a different one', async () => {
    const trace = async (seed: number): Promise<string> => {
      const faults: Faults = { delayMsMin: 1, delayMsMax: 30, dropProbability: 0.2, duplicateProbability: 0.2 }
      const { clock, network, a, b, c } = setup(faults, seed)
      const lines: string[] = []
      for (const t of [a, b, c]) t.listen({ envelope: (from, e) => lines.push(`${clock.now()} ${from}>${t.self} ${e.id}`) })
      for (let round = 0; round < 10; round++) {
        a.send('b', call(`a${round}`))
        b.send('c', call(`b${round}`))
        c.send('a', call(`c${round}`))
        a.send('c', call(`a${round}'`))
        await clock.runFor(3)
      }
      await clock.run()
      return JSON.stringify({ lines, stats: network.stats() })
    }
    const first = await trace(1234)
    expect(await trace(1234)).toBe(first)
    expect(await trace(4321)).not.toBe(first)
    expect(JSON.parse(first).lines.length).toBeGreaterThan(20)
  })

  test('refuses options out of range with InvalidArgument', () => {
    const clock = new SimulatedClock()
    const random = seededRandom(1)
    for (const bad of [{ dropProbability: 1.5 }, { duplicateProbability: -0.1 }, { delayMsMin: 5, delayMsMax: 2 }, { delayMsMin: 0.5 }]) {
      let thrown: unknown
      try {
        new SimulatedNetwork({ clock, random, ...bad })
      } catch (error) {
        thrown = error
      }
      expect(isTroupeError(thrown, 'InvalidArgument')).toBe(true)
    }
  })

  test('connecting the same peer twice is refused', () => {
    const { network } = setup()
    expect(() => network.connect('a')).toThrow(/already connected/)
    expect(network.peers()).toEqual(['a', 'b', 'c'])
  })
})
