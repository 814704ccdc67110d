/**
 * `npm start`: starts 4 hosts with the example actors, runs a workload, and shows where each
 * actor lives and how the calls went.
 */
import { Cluster } from '../runtime/node/cluster.ts'
import { Account, ChatRoom, Counter } from '../actors/examples/index.ts'

const hostCount = 4
const counters = 1000
const callsPerCounter = 20
const accounts = 20

const startedMs = performance.now()
const cluster = await Cluster.start({ actors: new URL('../actors/examples/index.js', import.meta.url), hosts: hostCount })
console.log(`started ${hostCount} hosts in ${(performance.now() - startedMs).toFixed(0)} ms: ${cluster.view.hosts.join(', ')}`)

const workStart = performance.now()
const counterCalls: Array<Promise<number>> = []
for (let i = 0; i < counters; i++) {
  const counter = cluster.actor(Counter, `c${i}`)
  for (let j = 0; j < callsPerCounter; j++) counterCalls.push(counter.increment(1))
}
await Promise.all(counterCalls)
const counterMs = performance.now() - workStart
const totals = await Promise.all(Array.from({ length: counters }, (_, i) => cluster.actor(Counter, `c${i}`).get()))
const lost = totals.filter((t) => t !== callsPerCounter).length
console.log(`${counterCalls.length} increments on ${counters} counters in ${counterMs.toFixed(0)} ms (${Math.round(counterCalls.length / (counterMs / 1000))} calls/s); counters off by any amount: ${lost}`)

await Promise.all(Array.from({ length: accounts }, (_, i) => cluster.actor(Account, `acct-${i}`).deposit(1000)))
// Money flows from lower to higher account numbers: turns that wait on each other in a longer
// cycle (A -> B -> C -> A) would only end by timeout (see README, "Deadlocks").
const transfers = Array.from({ length: 2000 }, (_, i) => {
  const from = i % (accounts - 1)
  const to = from + 1 + ((i * 7) % (accounts - 1 - from))
  return cluster.actor(Account, `acct-${from}`).transfer(`acct-${to}`, 1 + (i % 5)).catch(() => 0)
})
await Promise.all(transfers)
const balances = await Promise.all(Array.from({ length: accounts }, (_, i) => cluster.actor(Account, `acct-${i}`).balance()))
const total = balances.reduce((a, b) => a + b, 0)
console.log(`2000 transfers between ${accounts} accounts across hosts; total balance ${total} (expected ${accounts * 1000}): ${total === accounts * 1000 ? 'unchanged' : 'CHANGED'}`)

const room = cluster.actor(ChatRoom, 'lobby')
for (const member of ['ada', 'grace', 'alan']) await room.join(member)
await room.post('ada', 'hello from the demo')
console.log(`ChatRoom/lobby lives on ${cluster.ownerOf(ChatRoom, 'lobby')} and holds ${(await room.history()).length} message(s)`)

console.log('\nwhere actors live:')
for (const id of ['c0', 'c1', 'c2', 'c3', 'c4']) console.log(`  Counter/${id.padEnd(4)} -> ${cluster.ownerOf(Counter, id)}`)
for (const id of ['acct-0', 'acct-1']) console.log(`  Account/${id} -> ${cluster.ownerOf(Account, id)}`)
console.log('\nhosts:')
for (const host of await cluster.hosts()) {
  console.log(`  ${host.id}: ${String(host.activations).padStart(5)} activations, ${String(host.turns).padStart(6)} turns, ${host.callsReceived} calls received`)
}
await cluster.stop()
const ok = lost === 0 && total === accounts * 1000
console.log(ok ? '\ndemo ok' : '\ndemo FAILED')
process.exitCode = ok ? 0 : 1
