import { partitionByKey, precedes, type Operation } from './history.ts'
import type { Call, Model } from './models.ts'

/**
 * A reference oracle for tests: tries every subset of `info` operations and every order of the
 * chosen operations consistent with real time. Exponential; only for histories of a few operations.
 */
export function bruteForceLinearizable<S, I extends Call, O>(history: readonly Operation[], model: Model<S, I, O>): boolean {
  for (const ops of partitionByKey(history).values()) {
    const live = ops.filter((op) => op.status !== 'fail')
    const required = live.filter((op) => op.status === 'ok')
    const optional = live.filter((op) => op.status === 'info')
    let found = false
    for (let mask = 0; mask < 1 << optional.length && !found; mask++) {
      const chosen = [...required, ...optional.filter((_, i) => (mask >> i) & 1)]
      found = someOrder(chosen, model.init(), model)
    }
    if (!found) return false
  }
  return true
}

function someOrder<S, I extends Call, O>(remaining: readonly Operation[], state: S, model: Model<S, I, O>): boolean {
  if (remaining.length === 0) return true
  return remaining.some((op) => {
    if (remaining.some((other) => other !== op && precedes(other, op))) return false
    const input = model.decode({ name: op.name, input: op.input })
    if (input === undefined) throw new Error(`unknown call ${op.name}`)
    const next = model.step(state, input)
    if (!next.ok || (op.status === 'ok' && !model.matches(next.output, op.output))) return false
    return someOrder(
      remaining.filter((other) => other !== op),
      next.state,
      model,
    )
  })
}
