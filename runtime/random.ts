/**
 * Randomness, injected: the runtime draws random numbers only through a `Random`,
 * so a seeded simulation replays exactly.
 */
export interface Random {
  /** A uniformly distributed 32-bit unsigned integer. */
  uint32(): number
}

/** A float in [0, 1) from a `Random`. */
export function nextFloat(random: Random): number {
  return random.uint32() / 4294967296
}

/** An integer in [0, n) from a `Random`. */
export function nextInt(random: Random, n: number): number {
  return Math.floor(nextFloat(random) * n)
}

/** Deterministic PRNG (sfc32) seeded from one integer; identical sequences in every runtime. */
export function seededRandom(seed: number): Random {
  let a = 0x9e3779b9 ^ seed, b = 0x243f6a88 ^ (seed >>> 0), c = 0xb7e15162, d = 1
  const next = (): number => {
    a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0
    let t = (a + b) | 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) | 0
    c = (c << 21) | (c >>> 11)
    d = (d + 1) | 0
    t = (t + d) | 0
    c = (c + t) | 0
    return t >>> 0
  }
  for (let i = 0; i < 15; i++) next()
  return { uint32: next }
}

/** The platform's cryptographic randomness (Web Crypto), for ids that must not repeat across restarts. */
export const systemRandom: Random = {
  uint32() {
    return crypto.getRandomValues(new Uint32Array(1))[0]!
  },
}

/** A short random id of 8 hex digits pairs, e.g. for a client's request-id prefix. */
export function randomId(random: Random, words = 2): string {
  let out = ''
  for (let i = 0; i < words; i++) out += random.uint32().toString(16).padStart(8, '0')
  return out
}
