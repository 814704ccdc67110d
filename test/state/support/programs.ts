import fc from 'fast-check'

/**
 * Random states and random mutation programs. A program runs twice: on a plain copy of the
 * state (the model, ordinary JavaScript semantics) and on a turn's draft; both must end equal.
 */

const objectKeys = ['a', 'b', 'c', '1', 'e f', 'd'] as const
const mapKeys = ['a', 'b', 1, 2, '1'] as const
const members = [1, 2, 0, 'a', '1', true, null, undefined] as const

const primitive = fc.oneof(
  fc.integer({ min: -5, max: 5 }),
  fc.string({ maxLength: 3 }),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.constantFrom(Number.NaN, -0, Number.POSITIVE_INFINITY, 1.5),
)

const { value } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    primitive,
    fc.dictionary(fc.constantFrom(...objectKeys), tie('value'), { maxKeys: 4 }),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.sparseArray(tie('value'), { maxLength: 5, maxNumElements: 3 }),
    fc.array(fc.tuple(fc.constantFrom(...mapKeys), tie('value')), { maxLength: 3 }).map((entries) => new Map(entries)),
    fc.array(fc.constantFrom(...members), { maxLength: 4 }).map((items) => new Set(items)),
    fc.date({ min: new Date(-1e12), max: new Date(4e12) }),
    fc.uint8Array({ maxLength: 4 }),
    fc.float64Array({ maxLength: 3 }),
  ),
}))

/** A journalable value of any kind, nested a few levels. */
export const stateValue: fc.Arbitrary<unknown> = value

/** A state root: a plain object. */
export const stateRoot: fc.Arbitrary<Record<string, unknown>> = fc.dictionary(fc.constantFrom(...objectKeys), value, { maxKeys: 5 })

/** One step of a program: where to go, what to do there, with which operands. */
export interface Action {
  nav: number[]
  source: number[]
  sel: number
  key: number
  n: number
  m: number
  value: unknown
  replace: boolean
}

const action: fc.Arbitrary<Action> = fc.record({
  nav: fc.array(fc.nat(7), { maxLength: 3 }),
  source: fc.array(fc.nat(7), { maxLength: 3 }),
  sel: fc.nat(23),
  key: fc.nat(9),
  n: fc.nat(300),
  m: fc.nat(300),
  value,
  replace: fc.nat(40).map((n) => n === 0),
})

/** A mutation program. */
export const program: fc.Arbitrary<Action[]> = fc.array(action, { maxLength: 12 })

/** What the interpreter needs from the world it runs in. */
export interface Host {
  root(): unknown
  replace(next: unknown): void
  /** Whether action `index` may alias `source` into `target` (false when it would make a cycle). */
  mayAlias(index: number, source: unknown, target: unknown): boolean
}

type Rec = Record<string, unknown>

function isContainer(value: unknown): value is object {
  return typeof value === 'object' && value !== null
}

function children(target: unknown): unknown[] {
  if (!isContainer(target) || target instanceof Date || target instanceof Set || ArrayBuffer.isView(target) || isTyped(target)) return []
  if (target instanceof Map) return [...target.values()].filter(isContainer)
  if (Array.isArray(target)) return target.filter(isContainer)
  return Object.keys(target).map((key) => (target as Rec)[key]).filter(isContainer)
}

function isTyped(value: unknown): value is Uint8Array | Float64Array {
  return value instanceof Uint8Array || value instanceof Float64Array
}

/** Walks from `root` choosing the `step % n`-th container child at each level. */
export function navigate(root: unknown, steps: readonly number[]): unknown {
  let at = root
  for (const step of steps) {
    const kids = children(at)
    if (kids.length === 0) break
    at = kids[step % kids.length]
  }
  return at
}

/** True when `target` can be reached from `source` (so writing `source` into `target` makes a cycle). */
export function reaches(source: unknown, target: unknown, seen = new Set<unknown>()): boolean {
  if (source === target) return true
  if (!isContainer(source) || seen.has(source)) return false
  seen.add(source)
  return children(source).some((child) => reaches(child, target, seen))
}

function rank(value: unknown): number {
  if (typeof value === 'number') return Number.isNaN(value) ? -1 : value
  if (typeof value === 'string') return 1000 + value.length
  if (typeof value === 'boolean') return value ? 2001 : 2000
  if (value === null) return 3000
  return 4000
}

/** Runs a program against `host`; the same program on equal states does the same things. */
export function run(program: readonly Action[], host: Host): void {
  program.forEach((step, index) => {
    if (step.replace) return host.replace(structuredClone(step.value))
    const target = navigate(host.root(), step.nav)
    if (!isContainer(target)) return
    const fresh = () => structuredClone(step.value)
    const alias = (): unknown => {
      const source = navigate(host.root(), step.source)
      return host.mayAlias(index, source, target) ? source : undefined
    }
    if (target instanceof Map) return onMap(target, step, fresh, alias)
    if (target instanceof Set) return onSet(target, step)
    if (target instanceof Date) return onDate(target, step)
    if (isTyped(target)) return onTyped(target, step)
    if (Array.isArray(target)) return onArray(target, step, fresh, alias)
    return onObject(target as Rec, step, fresh, alias)
  })
}

function onObject(target: Rec, step: Action, fresh: () => unknown, alias: () => unknown): void {
  const key = objectKeys[step.key % objectKeys.length]!
  switch (step.sel % 6) {
    case 0: target[key] = fresh(); break
    case 1: delete target[key]; break
    case 2: { const source = alias(); if (source !== undefined) target[key] = source; break }
    case 3: { const old = target[key]; delete target[key]; target[key] = old; break }
    case 4: void JSON.stringify(Object.keys(target)); break
    case 5: Object.assign(target, { [key]: fresh() }); break
  }
}

function onArray(target: unknown[], step: Action, fresh: () => unknown, alias: () => unknown): void {
  const length = target.length
  switch (step.sel % 12) {
    case 0: target.push(fresh()); break
    case 1: target.pop(); break
    case 2: target.splice(step.n % (length + 1), step.m % 3, fresh()); break
    case 3: target.sort((x, y) => rank(x) - rank(y)); break
    case 4: target.reverse(); break
    case 5: target[step.n % (length + 2)] = fresh(); break
    case 6: target.length = step.n % (length + 3); break
    case 7: if (length > 0) delete target[step.n % length]; break
    case 8: target.unshift(fresh()); break
    case 9: target.shift(); break
    case 10: { const source = alias(); if (source !== undefined) target.push(source); break }
    case 11: target.fill(step.m % 7, step.n % (length + 1)); break
  }
}

function onMap(target: Map<unknown, unknown>, step: Action, fresh: () => unknown, alias: () => unknown): void {
  const key = mapKeys[step.key % mapKeys.length]!
  switch (step.sel % 6) {
    case 0: target.set(key, fresh()); break
    case 1: target.delete(key); break
    case 2: target.clear(); break
    case 3: { const source = alias(); if (source !== undefined) target.set(key, source); break }
    case 4: if (target.has(key)) { const old = target.get(key); target.delete(key); target.set(key, old) } break
    case 5: { let count = 0; target.forEach(() => { count++ }); void count; break }
  }
}

function onSet(target: Set<unknown>, step: Action): void {
  const member = members[step.key % members.length]
  switch (step.sel % 4) {
    case 0: target.add(member); break
    case 1: target.delete(member); break
    case 2: target.clear(); break
    case 3: if (target.has(member)) { target.delete(member); target.add(member) } break
  }
}

function onDate(target: Date, step: Action): void {
  switch (step.sel % 3) {
    case 0: target.setFullYear(1990 + (step.n % 60)); break
    case 1: target.setTime(step.n * 1000); break
    case 2: target.setMilliseconds(step.m % 1000); break
  }
}

function onTyped(target: Uint8Array | Float64Array, step: Action): void {
  const length = target.length
  switch (step.sel % 4) {
    case 0: if (length > 0) target[step.n % length] = step.m; break
    case 1: target.fill(step.m % 256, step.n % (length + 1)); break
    case 2: target.reverse(); break
    case 3: target.sort(); break
  }
}
