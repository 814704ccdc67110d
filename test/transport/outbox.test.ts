import { describe, expect, test } from 'vitest'
import type { Envelope } from '../../transport/envelope.ts'
import { Outbox } from '../../transport/outbox.ts'

const reply = (n: number): Envelope => ({ v: 1, t: 'reply', id: `r${n}`, ok: true, value: n })

/** An outbox whose flush point runs only when the test says so, and the frames it sent. */
function harness(eagerFirst: boolean, frameEnvelopesMax?: number) {
  const frames: Array<[string, string[]]> = []
  let pending: (() => void) | undefined
  const outbox = new Outbox((to, frame) => frames.push([to, frame.map((e) => (e as { id: string }).id)]), {
    eagerFirst,
    ...(frameEnvelopesMax !== undefined ? { frameEnvelopesMax } : {}),
    schedule: (flush) => { pending = flush },
  })
  const endOfTick = (): void => {
    const flush = pending
    pending = undefined
    flush?.()
  }
  return { outbox, frames, endOfTick }
}

describe('Outbox', () => {
  test('a burst to one peer leaves as one frame at the flush point, in order', () => {
    const { outbox, frames, endOfTick } = harness(false)
    for (let n = 1; n <= 3; n++) outbox.push('h1', reply(n))
    expect(frames).toEqual([])
    endOfTick()
    expect(frames).toEqual([['h1', ['r1', 'r2', 'r3']]])
  })

  test('eagerFirst: the first envelope of a burst to each peer leaves at once, the rest batch, order kept; the next burst starts eager again', () => {
    const { outbox, frames, endOfTick } = harness(true)
    outbox.push('h1', reply(1))
    expect(frames).toEqual([['h1', ['r1']]])
    outbox.push('h1', reply(2))
    outbox.push('h2', reply(3))
    outbox.push('h1', reply(4))
    outbox.push('h2', reply(5))
    expect(frames).toEqual([['h1', ['r1']], ['h2', ['r3']]])
    endOfTick()
    expect(frames).toEqual([['h1', ['r1']], ['h2', ['r3']], ['h1', ['r2', 'r4']], ['h2', ['r5']]])
    outbox.push('h2', reply(6))
    expect(frames.at(-1)).toEqual(['h2', ['r6']])
  })

  test('a frame that reaches the cap leaves before the flush point', () => {
    const { outbox, frames, endOfTick } = harness(false, 2)
    for (let n = 1; n <= 5; n++) outbox.push('h1', reply(n))
    expect(frames).toEqual([['h1', ['r1', 'r2']], ['h1', ['r3', 'r4']]])
    endOfTick()
    expect(frames.at(-1)).toEqual(['h1', ['r5']])
  })

  test('eagerFirst: an envelope pushed while the flush drains (from a send callback) queues behind its peer\'s frame', () => {
    const frames: Array<[string, string[]]> = []
    let pending: (() => void) | undefined
    let draining = false
    const outbox: Outbox = new Outbox((to, frame) => {
      frames.push([to, frame.map((e) => (e as { id: string }).id)])
      // Sending h1's queued frame makes the sender push to h2, whose frame has not gone yet.
      if (to === 'h1' && draining) {
        draining = false
        outbox.push('h2', reply(9))
      }
    }, { eagerFirst: true, schedule: (flush) => { pending = flush } })
    outbox.push('h1', reply(1))
    outbox.push('h2', reply(2))
    outbox.push('h1', reply(3))
    outbox.push('h2', reply(4))
    draining = true
    for (let turns = 0; pending && turns < 3; turns++) {
      const flush = pending
      pending = undefined
      flush()
    }
    const toH2 = frames.filter(([to]) => to === 'h2').flatMap(([, ids]) => ids)
    expect(toH2).toEqual(['r2', 'r4', 'r9'])
  })
})
