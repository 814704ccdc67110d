/**
 * Every seed that once failed, by name: each replays with `npm run sim -- --seed S --faults P`.
 * `expect: 'clean'` seeds must pass; the others show a known runtime bug and must keep showing
 * it (the listed invariants) until the bug is fixed — then the entry flips to 'clean'.
 */
export interface Regression {
  readonly name: string
  readonly seed: number
  readonly profile: string
  readonly expect: 'clean' | readonly string[]
  readonly note: string
}

/** The regression seeds, oldest first. */
export const regressions: readonly Regression[] = [
  {
    name: 'a key re-activated on the same host while its last activation was still saving',
    seed: 45,
    profile: 'ci',
    expect: 'clean',
    note: 'Host reports activate when it creates the activation, before the previous one finished saving; the checker saw two activations. The sim now records the activation when it can run turns.',
  },
  ...[3, 33, 60, 69].map((seed) => ({
    name: `same-host re-activation during a slow save (seed ${seed})`,
    seed,
    profile: 'ci',
    expect: 'clean' as const,
    note: 'as seed 45',
  })),
  {
    name: 'a lost replication ack (one-way partition) blocked a key forever',
    seed: 197,
    profile: 'ci',
    expect: 'clean',
    note: 'found on the uncommitted replication work: replicate/replicated are never re-sent, so one lost ack holds every later reply of the key behind the output gate, even after the partition heals.',
  },
  {
    name: 'duplicated call envelopes run their turn twice (no request dedup yet)',
    seed: 1,
    profile: 'duplication',
    expect: ['exactly-once', 'linearizable-counter'],
    note: 'DESIGN.md invariant 4; fixed when the host answers a known requestId from its recent-request table.',
  },
  {
    name: 'a host crash loses acknowledged writes (no durability yet)',
    seed: 1,
    profile: 'crash',
    expect: ['acknowledged-writes-kept'],
    note: 'DESIGN.md invariant 1; fixed when turns are journaled before they are acknowledged.',
  },
  {
    name: 'a duplicated call that failed on one copy took effect on the other',
    seed: 7,
    profile: 'full',
    expect: ['failed-means-no-effect', 'exactly-once', 'money-conserved'],
    note: 'a "definite" failure is only definite once duplicates are deduplicated; money is created by Account.transfer compensating an unknown deposit.',
  },
]
