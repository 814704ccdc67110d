/**
 * Which threads of a Node cluster spin before sleeping (see `ClusterOptions.spinWaitUs` and
 * transport/spin-wait.ts): one Int32 in a SharedArrayBuffer that the supervisor sets as hosts
 * join and leave, and every thread reads before it spins. Small on purpose: host workers load it.
 */

/** How long a thread polls its ports before sleeping, by default (see `spinWaitUs`). */
export const spinWaitUsDefault = 100

/** Without `spinWaitUs`, threads spin only while the client and every host can have a core of their own. */
export function spinsByDefault(hosts: number, cores: number): boolean {
  return hosts + 1 <= cores
}

/**
 * The client spins only with at most this many calls in flight: with more, replies arrive in a
 * stream anyway, and a spinning client takes CPU the hosts' garbage collectors need.
 */
const spinInFlightMax = 64

/** Which threads spin: every thread, only the client with one call in flight, or none. */
export type Spinning = 'all' | 'client' | 'none'
/** The values of the spin gate every thread of a cluster reads (one shared Int32). */
export const spinNone = 0
export const spinClient = 1
export const spinAll = 2
export const spinningNames: readonly Spinning[] = ['none', 'client', 'all']

/**
 * Whether the client spins after sending. When hosts share cores, only with one call in flight:
 * then one host at a time works, and a spinning client takes no core it needs; the hosts, which
 * would, do not spin.
 */
export function clientSpins(gate: number, inFlight: number): boolean {
  return inFlight > 0 && (gate === spinAll ? inFlight <= spinInFlightMax : gate === spinClient && inFlight === 1)
}

/** Whether a host spins after a burst of work. */
export function hostSpins(gate: number): boolean {
  return gate === spinAll
}
