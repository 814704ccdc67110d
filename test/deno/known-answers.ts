/** Inputs of the cross-runtime known-answer check, shared by the Deno script and the Node test. */

/** Counter ids whose placement and key hash are compared (ASCII of every length mod 4, Latin-1, CJK, astral). */
export const knownIds = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank-0001', 'émile', '日本語', '🎭actor', 'x']

/** Ring labels whose xxhash64 points (hash-wasm) are compared too. */
export const pointLabels = ['host-0#0', 'host-0#255', 'host-1#0', 'host-1#255', 'shard#0', 'shard#4095']
