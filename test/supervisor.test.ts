import { describe, expect, test } from 'vitest'
import { resolveSupervision, Supervisor } from '../runtime/supervision/supervisor.ts'

const hosts = ['h0', 'h1', 'h2', 'h3']

describe('Supervisor (OTP semantics)', () => {
  test('one_for_one restarts only the failed child', () => {
    expect(new Supervisor({ strategy: 'one_for_one' }).childExited('h1', hosts, true, 0)).toEqual({ action: 'restart', children: ['h1'] })
  })

  test('one_for_all restarts every child, in start order', () => {
    expect(new Supervisor({ strategy: 'one_for_all' }).childExited('h2', hosts, true, 0)).toEqual({ action: 'restart', children: hosts })
  })

  test('rest_for_one restarts the failed child and those started after it', () => {
    expect(new Supervisor({ strategy: 'rest_for_one' }).childExited('h1', hosts, true, 0)).toEqual({ action: 'restart', children: ['h1', 'h2', 'h3'] })
  })

  test('transient children restart only after an abnormal exit; temporary never', () => {
    expect(new Supervisor({ restart: 'transient' }).childExited('h0', hosts, false, 0)).toEqual({ action: 'ignore' })
    expect(new Supervisor({ restart: 'transient' }).childExited('h0', hosts, true, 0).action).toBe('restart')
    expect(new Supervisor({ restart: 'temporary' }).childExited('h0', hosts, true, 0)).toEqual({ action: 'ignore' })
  })

  test('more than intensity restarts within periodMs escalate; older restarts fall out of the window', () => {
    const supervisor = new Supervisor({ intensity: 2, periodMs: 1000 })
    expect(supervisor.childExited('h0', hosts, true, 0).action).toBe('restart')
    expect(supervisor.childExited('h0', hosts, true, 100).action).toBe('restart')
    expect(supervisor.childExited('h0', hosts, true, 200).action).toBe('escalate')
    expect(supervisor.childExited('h0', hosts, true, 1500).action).toBe('restart')
  })

  test('bad options are refused with InvalidArgument', () => {
    for (const bad of [{ strategy: 'one_for_some' }, { restart: 'sometimes' }, { intensity: -1 }, { periodMs: 0 }, { intensity: 1.5 }, { restartDelayMs: -1 }, { restartDelayMs: 2.5 }, { restartDelayMs: '50' }, { restartDelayMs: 120_000 }]) {
      expect(() => resolveSupervision(bad as never)).toThrowError(expect.objectContaining({ kind: 'InvalidArgument' }))
    }
  })
})
