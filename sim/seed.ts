import { fmix32 } from '../runtime/hash.ts'
import { nextFloat, nextInt, seededRandom, type Random } from '../runtime/random.ts'

/**
 * Seeds for the parts of a world. One integer seed decides a whole run; each component (the
 * network, each host, each client, the nemesis, each disk) draws from its own stream derived
 * from the world seed and the component's name, so adding draws to one part never shifts
 * another's.
 */

/** A 32-bit seed for the component `label` of the world `seed` (FNV-1a, then a murmur finalizer). */
export function deriveSeed(seed: number, label: string): number {
  let h = 0x811c9dc5 ^ (seed >>> 0)
  h = Math.imul(h ^ Math.floor(seed / 4294967296), 0x01000193)
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193)
  return fmix32(h)
}

/** The seeded random stream of the component `label` of the world `seed`. */
export function componentRandom(seed: number, label: string): Random {
  return seededRandom(deriveSeed(seed, label))
}

/** True with probability `p` (no draw when `p` is 0, so a disabled fault costs no randomness). */
export function chance(random: Random, p: number): boolean {
  return p > 0 && nextFloat(random) < p
}

/** An integer in [min, max], both included. */
export function intBetween(random: Random, min: number, max: number): number {
  return min + nextInt(random, max - min + 1)
}

/** A float in [min, max). */
export function floatBetween(random: Random, min: number, max: number): number {
  return min + nextFloat(random) * (max - min)
}

/** One element of a non-empty list. */
export function pick<T>(random: Random, items: readonly T[]): T {
  if (items.length === 0) throw new RangeError('pick from an empty list')
  return items[nextInt(random, items.length)]!
}

/** A random subset: each item kept with probability `p`. */
export function subset<T>(random: Random, items: readonly T[], p: number): T[] {
  return items.filter(() => chance(random, p))
}

/**
 * A `Random` whose draws can be silenced: while quiet it answers the largest uint32, so a
 * `SimulatedNetwork` drawing from it drops nothing, duplicates nothing and gives every frame the
 * same (longest) delay — the liveness phase's calm network — without touching the network.
 */
export class QuietableRandom implements Random {
  private readonly inner: Random
  private quiet = false

  constructor(inner: Random) {
    this.inner = inner
  }

  /** Silences (true) or restores (false) the randomness. */
  setQuiet(quiet: boolean): void {
    this.quiet = quiet
  }

  uint32(): number {
    return this.quiet ? 0xffffffff : this.inner.uint32()
  }
}
