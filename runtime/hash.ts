import { createXXHash64 } from 'hash-wasm'

/**
 * Hashing for placement. Two functions, each where it fits:
 * - `keyHash`: MurmurHash3 (x86, 32-bit) in plain JS over a key's UTF-8 bytes. It runs on every
 *   uncached lookup, where hash-wasm's ~0.5 µs fixed cost per call would dominate.
 * - `pointHash`: xxhash64 from hash-wasm for ring points (vnodes, shards), computed once per view.
 * Both are pure functions of their input, identical in Node, Deno and browsers.
 */

const encoder = new TextEncoder()

/** MurmurHash3 x86_32 of `key`'s UTF-8 bytes, seed 0, as an unsigned 32-bit integer. */
export function keyHash(key: string): number {
  // One pass for the usual ASCII key; a key with any other character hashes its UTF-8 bytes.
  const hash = murmurAscii(key)
  return hash >= 0 ? hash : murmurBytes(encoder.encode(key))
}

function mixK(k: number): number {
  k = Math.imul(k, 0xcc9e2d51)
  k = (k << 15) | (k >>> 17)
  return Math.imul(k, 0x1b873593)
}

function mixH(h: number, k: number): number {
  h ^= mixK(k)
  h = (h << 13) | (h >>> 19)
  return (Math.imul(h, 5) + 0xe6546b64) | 0
}

function finish(h: number, length: number): number {
  return fmix32(h ^ length)
}

/** MurmurHash3's 32-bit finalizer: every input bit affects every output bit. */
export function fmix32(h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/** MurmurHash3 of an ASCII key's characters as its bytes; -1 when a character is not ASCII. */
function murmurAscii(key: string): number {
  const n = key.length, blocks = n & ~3
  let h = 0
  for (let i = 0; i < blocks; i += 4) {
    const a = key.charCodeAt(i), b = key.charCodeAt(i + 1), c = key.charCodeAt(i + 2), d = key.charCodeAt(i + 3)
    if ((a | b | c | d) > 0x7f) return -1
    h = mixH(h, a | (b << 8) | (c << 16) | (d << 24))
  }
  let k = 0, high = 0
  switch (n & 3) {
    case 3: high |= key.charCodeAt(blocks + 2); k ^= key.charCodeAt(blocks + 2) << 16 // falls through
    case 2: high |= key.charCodeAt(blocks + 1); k ^= key.charCodeAt(blocks + 1) << 8 // falls through
    case 1: high |= key.charCodeAt(blocks); k ^= key.charCodeAt(blocks); h ^= mixK(k)
  }
  if (high > 0x7f) return -1
  return finish(h, n)
}

function murmurBytes(bytes: Uint8Array): number {
  const n = bytes.length, blocks = n & ~3
  let h = 0
  for (let i = 0; i < blocks; i += 4) {
    h = mixH(h, bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24))
  }
  let k = 0
  switch (n & 3) {
    case 3: k ^= bytes[blocks + 2]! << 16 // falls through
    case 2: k ^= bytes[blocks + 1]! << 8 // falls through
    case 1: k ^= bytes[blocks]!; h ^= mixK(k)
  }
  return finish(h, n)
}

/** Hashes a ring point's label to an unsigned 32-bit position (the high word of xxhash64, seed 0). */
export type PointHasher = (label: string) => number

let pointHasher: Promise<PointHasher> | undefined

/** Loads hash-wasm's xxhash64 once per realm and returns a synchronous point hasher. */
export function loadPointHasher(): Promise<PointHasher> {
  pointHasher ??= createXXHash64(0, 0).then((hasher) => (label: string) => {
    const digest = hasher.init().update(label).digest('binary')
    return ((digest[0]! << 24) | (digest[1]! << 16) | (digest[2]! << 8) | digest[3]!) >>> 0
  })
  return pointHasher
}
