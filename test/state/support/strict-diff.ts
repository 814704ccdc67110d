/**
 * The first difference between two state values, or `undefined` when they are the same value.
 * Stricter than `toStrictEqual`: object key order, Map entry order, Set member order, holes,
 * `-0` and `NaN` all count; identity (aliasing) does not.
 */
export function strictDiff(a: unknown, b: unknown, path = 'state'): string | undefined {
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) {
    return Object.is(a, b) ? undefined : `${path}: ${show(a)} !== ${show(b)}`
  }
  if (protoOf(a) !== protoOf(b)) return `${path}: different prototypes`
  if (a instanceof Date) return Object.is(a.getTime(), (b as Date).getTime()) ? undefined : `${path}: dates ${a.getTime()} vs ${(b as Date).getTime()}`
  if (ArrayBuffer.isView(a)) return arrayLike(a as unknown as ArrayLike<unknown>, b as unknown as ArrayLike<unknown>, path)
  if (a instanceof Set) {
    return strictDiff([...a], [...(b as Set<unknown>)], `${path}<set>`)
  }
  if (a instanceof Map) {
    const bm = b as Map<unknown, unknown>
    const keys = strictDiff([...a.keys()], [...bm.keys()], `${path}<keys>`)
    if (keys !== undefined) return keys
    for (const [key, value] of a) {
      const d = strictDiff(value, bm.get(key), `${path}.get(${show(key)})`)
      if (d !== undefined) return d
    }
    return undefined
  }
  if (Array.isArray(a)) {
    const bb = b as unknown[]
    if (a.length !== bb.length) return `${path}: length ${a.length} vs ${bb.length}`
    for (let i = 0; i < a.length; i++) {
      if ((i in a) !== (i in bb)) return `${path}[${i}]: hole vs value`
      const d = strictDiff(a[i], bb[i], `${path}[${i}]`)
      if (d !== undefined) return d
    }
    return undefined
  }
  const ka = Object.keys(a)
  const kb = Object.keys(b)
  if (ka.join('\u0000') !== kb.join('\u0000')) return `${path}: keys ${JSON.stringify(ka)} vs ${JSON.stringify(kb)}`
  for (const key of ka) {
    const d = strictDiff((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], `${path}.${key}`)
    if (d !== undefined) return d
  }
  return undefined
}

function arrayLike(a: ArrayLike<unknown>, b: ArrayLike<unknown>, path: string): string | undefined {
  if (a.length !== b.length) return `${path}: length ${a.length} vs ${b.length}`
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return `${path}[${i}]: ${show(a[i])} vs ${show(b[i])}`
  return undefined
}

function show(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`
  if (Object.is(value, -0)) return '-0'
  if (typeof value === 'object' && value !== null) return Object.prototype.toString.call(value)
  return typeof value === 'string' ? JSON.stringify(value) : String(value)
}

/** Null-prototype objects count as plain objects: structuredClone (so a journal) makes them so. */
function protoOf(value: object): unknown {
  const proto: unknown = Object.getPrototypeOf(value)
  return proto === null ? Object.prototype : proto
}

/**
 * A deep copy in which every object appears once (aliases become separate copies): the state as
 * a journal replay sees it, since committed state has value semantics.
 */
export function treeClone<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value
  if (value instanceof Date) return new Date(value.getTime()) as T
  if (ArrayBuffer.isView(value)) return (value as unknown as Uint8Array).slice() as unknown as T
  if (value instanceof Set) return new Set(value) as T
  if (value instanceof Map) return new Map([...value].map(([k, v]) => [k, treeClone(v)])) as T
  if (Array.isArray(value)) {
    const out: unknown[] = new Array(value.length)
    value.forEach((item, index) => { out[index] = treeClone(item) })
    return out as T
  }
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(value)) out[key] = treeClone((value as Record<string, unknown>)[key])
  return out as T
}
