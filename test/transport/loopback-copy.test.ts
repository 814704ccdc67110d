import { describe, expect, test } from 'vitest'
import type { CallEnvelope, Envelope } from '../../transport/envelope.ts'
import { loopbackCopy } from '../../transport/loopback-copy.ts'

const call = (args: unknown[], chain?: string[]): CallEnvelope => ({ v: 1, t: 'call', id: 'h0~1', epoch: 3, key: 'Box/b', method: 'put', args, ...(chain ? { chain } : {}) })

describe('loopbackCopy (a host delivering to itself)', () => {
  test('a call keeps every field; its arguments and chain are new arrays', () => {
    const sent = call([1, 'a', null, undefined, 2n, true], ['Relay/r'])
    const got = loopbackCopy(sent) as CallEnvelope
    expect(got).toEqual(sent)
    expect(got.args).not.toBe(sent.args)
    expect(got.chain).not.toBe(sent.chain)
    expect(loopbackCopy(call([1], undefined))).not.toHaveProperty('chain')
  })

  test('object arguments are deep copies, and two arguments that share an object share one copy', () => {
    const shared = { n: 1, inner: [1, 2] }
    const got = loopbackCopy(call([shared, shared, new Map([[1, new Date(5)]])])) as CallEnvelope
    const [a, b, m] = got.args as [typeof shared, typeof shared, Map<number, Date>]
    expect(a).toEqual(shared)
    expect(a).not.toBe(shared)
    expect(a.inner).not.toBe(shared.inner)
    expect(b).toBe(a)
    expect(m.get(1)).toEqual(new Date(5))
  })

  test('a reply copies an object result and passes a primitive one as it is', () => {
    const value = { list: [1, 2] }
    const got = loopbackCopy({ v: 1, t: 'reply', id: 'x', ok: true, value }) as Extract<Envelope, { t: 'reply'; ok: true }>
    expect(got.value).toEqual(value)
    expect(got.value).not.toBe(value)
    expect(loopbackCopy({ v: 1, t: 'reply', id: 'x', ok: true, value: 's' })).toEqual({ v: 1, t: 'reply', id: 'x', ok: true, value: 's' })
    const error: Envelope = { v: 1, t: 'reply', id: 'x', ok: false, error: { kind: 'ActorFailed', message: 'no' } }
    expect(loopbackCopy(error)).toEqual(error)
  })

  test('what structured clone refuses is refused here too, at the top level or nested', () => {
    for (const bad of [Symbol('s'), () => 1, { f: () => 1 }, [Symbol('t')]]) {
      expect(() => loopbackCopy(call([bad]))).toThrow()
      expect(() => loopbackCopy({ v: 1, t: 'reply', id: 'x', ok: true, value: bad })).toThrow()
    }
  })
})
