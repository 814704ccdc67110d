import { nodeOf } from './node.ts'
import { readOnlyTarget } from './read-only.ts'
import { copyContainer } from './values.ts'

/**
 * Replaces every draft inside a turn's result with a plain copy of its current value, so a
 * method may `return this.state.items` and the caller gets the items, not a proxy that dies with
 * the turn. Call it while the turn is open. Values without drafts come back as they are.
 * `depthMax` bounds the walk (a cycle in a value that holds no draft).
 */
export function resolveDrafts(value: unknown, depth = 0, depthMax = 256): unknown {
  if (typeof value !== 'object' || value === null || depth > depthMax) return value
  if (nodeOf(value)) return copyDraft(value, depth, depthMax)
  // A read-only view of committed state: the state itself (committed state never changes); of a
  // write turn's draft (a reentrant method beside that turn): a copy of the draft.
  const target = readOnlyTarget(value)
  if (target !== undefined) return nodeOf(target) ? copyDraft(target, depth, depthMax) : target
  if (Array.isArray(value)) return mapIfChanged(value, (item) => resolveDrafts(item, depth + 1, depthMax))
  if (value instanceof Map) {
    let out: Map<unknown, unknown> | undefined
    for (const [k, v] of value) {
      const r = resolveDrafts(v, depth + 1, depthMax)
      if (r !== v) (out ??= new Map(value)).set(k, r)
    }
    return out ?? value
  }
  if (value instanceof Set || value instanceof Date || ArrayBuffer.isView(value)) return value
  const proto = Object.getPrototypeOf(value) as object | null
  if (proto !== Object.prototype && proto !== null) return value
  let out: Record<string, unknown> | undefined
  for (const key of Object.keys(value)) {
    const v = (value as Record<string, unknown>)[key]
    const r = resolveDrafts(v, depth + 1, depthMax)
    if (r !== v) {
      out ??= { ...(value as Record<string, unknown>) }
      out[key] = r
    }
  }
  return out ?? value
}

/** A plain deep copy of a draft's current value, read through the draft itself. */
function copyDraft(draft: object, depth: number, depthMax: number): unknown {
  // A proxy hides the internal slots `ArrayBuffer.isView` looks for: ask the draft what it is.
  const kind = nodeOf(draft)!.kind
  if (kind === 'typed' || kind === 'date') return copyContainer(nodeOf(draft)!.current(), kind)
  if (Array.isArray(draft)) {
    const out: unknown[] = new Array(draft.length)
    for (let i = 0; i < draft.length; i++) if (i in draft) out[i] = resolveDrafts(draft[i], depth + 1, depthMax)
    return out
  }
  if (draft instanceof Map) return new Map([...draft].map(([k, v]) => [k, resolveDrafts(v, depth + 1, depthMax)]))
  if (draft instanceof Set) return new Set(draft)
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(draft)) out[key] = resolveDrafts((draft as Record<string, unknown>)[key], depth + 1, depthMax)
  return out
}

function mapIfChanged(items: unknown[], fn: (item: unknown) => unknown): unknown[] {
  let out: unknown[] | undefined
  for (let i = 0; i < items.length; i++) {
    const r = fn(items[i])
    if (r !== items[i]) {
      out ??= items.slice()
      out[i] = r
    }
  }
  return out ?? items
}
