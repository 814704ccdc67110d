import { describe, expect, test } from 'vitest'
import { Cluster, isTroupeError, type ClusterEvent } from '../index.ts'
import { Autoscaler, resolveAutoscale } from '../runtime/supervision/autoscaler.ts'
import { formatEvent, styleFor } from '../runtime/cli/format.ts'

const builtExamples = new URL('../dist/actors/examples/index.js', import.meta.url)

describe('Autoscaler decisions', () => {
  const options = resolveAutoscale({ minHosts: 1, maxHosts: 3, scaleUpCallsPerHost: 100, scaleDownCallsPerHost: 10, cooldownMs: 1000 }, 256)

  test('one host more above the per-host load, one fewer below it, never past min or max, and none within the cooldown', () => {
    const scaler = new Autoscaler(options)
    expect(scaler.decide(1, 50, 0)).toEqual({ action: 'hold' })
    expect(scaler.decide(1, 250, 10)).toMatchObject({ action: 'up', to: 2 })
    expect(scaler.decide(2, 1000, 500)).toEqual({ action: 'hold' }) // cooldown
    expect(scaler.decide(2, 1000, 1010)).toMatchObject({ action: 'up', to: 3 })
    expect(scaler.decide(3, 10_000, 5000)).toEqual({ action: 'hold' }) // at maxHosts
    expect(scaler.decide(3, 0, 6000)).toMatchObject({ action: 'down', to: 2 })
    expect(scaler.decide(1, 0, 9000)).toEqual({ action: 'hold' }) // at minHosts
  })

  test('an autoscale event reads as one line in troupe status and top', () => {
    const plain = styleFor({ isTTY: false }, {})
    expect(formatEvent({ kind: 'autoscale', from: 1, to: 2, reason: '450 calls/s per host > 300' }, plain)).toBe('autoscale  1 -> 2 hosts: 450 calls/s per host > 300')
  })

  test('bad options are refused with InvalidArgument', () => {
    for (const bad of [{ minHosts: 0 }, { minHosts: 3, maxHosts: 2 }, { maxHosts: 1000 }, { scaleUpCallsPerHost: 0 }, { scaleUpCallsPerHost: 10, scaleDownCallsPerHost: 10 }, { intervalMs: 1 }, { cooldownMs: -1 }, { minHosts: 1.5 }, { maxHosts: '4' }]) {
      expect(() => resolveAutoscale(bad as never, 256)).toThrowError(expect.objectContaining({ kind: 'InvalidArgument' }))
    }
    expect(() => resolveAutoscale(null as never, 256)).toThrowError(expect.objectContaining({ kind: 'InvalidArgument' }))
  })
})

describe('autoscale on real worker threads', () => {
  test('a cluster grows under load and shrinks back when idle, with no failed call and every increment kept', async () => {
    const cluster = await Cluster.start({
      actors: builtExamples, replicas: 1,
      autoscale: { minHosts: 1, maxHosts: 2, scaleUpCallsPerHost: 300, scaleDownCallsPerHost: 50, intervalMs: 100, cooldownMs: 300 },
    })
    const events: ClusterEvent[] = []
    cluster.on((event) => events.push(event))
    try {
      expect((await cluster.hosts()).filter((h) => h.state !== 'down')).toHaveLength(1)
      let load = true
      let sent = 0
      const lanes = Array.from({ length: 16 }, async (_, lane) => {
        while (load) {
          await cluster.call(`Counter/lane-${lane}`, 'increment', [1])
          sent++
        }
      })
      const deadline = Date.now() + 30_000
      while (!events.some((e) => e.kind === 'autoscale' && e.to === 2) || (await cluster.hosts()).filter((h) => h.state === 'up').length < 2) {
        if (Date.now() > deadline) throw new Error('never scaled up')
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      load = false
      await Promise.all(lanes)
      while ((await cluster.hosts()).filter((h) => h.state !== 'down').length > 1) {
        if (Date.now() > deadline + 30_000) throw new Error('never scaled down')
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      let counted = 0
      for (let lane = 0; lane < 16; lane++) counted += (await cluster.call(`Counter/lane-${lane}`, 'get', [])) as number
      expect(counted).toBe(sent)
      expect(events.filter((e) => e.kind === 'autoscale').map((e) => e.kind === 'autoscale' && e.to)).toEqual([2, 1])
    } finally {
      await cluster.stop()
    }
  })

  test('hosts outside minHosts..maxHosts and bad autoscale options are refused before anything starts', async () => {
    for (const options of [{ hosts: 3, autoscale: { minHosts: 1, maxHosts: 2 } }, { autoscale: { minHosts: 0 } }, { autoscale: 'yes' }]) {
      const error = await Cluster.start({ actors: builtExamples, ...(options as object) }).then(() => undefined, (e: unknown) => e)
      expect(isTroupeError(error) && error.kind).toBe('InvalidArgument')
    }
  })
})
