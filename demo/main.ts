/**
 * `npm start`: the demo a newcomer runs first. Starts 4 hosts with the example actors and the HTTP
 * gateway, drives counters and bank transfers with a progress bar, kills a host halfway, and
 * checks that the bank's total is unchanged and no acknowledged write was lost.
 *
 *   npm start                  run the demo and exit (0 when every check passes)
 *   npm start -- --serve       keep the cluster and gateway up afterwards, for the troupe CLI
 *   npm start -- --port 8080   gateway port (default 7070; a free one if 7070 is taken)
 */
import { parseArgs } from 'node:util'
import { Account, Counter } from '../actors/examples/index.ts'
import { formatCount, formatDuration, styleFor } from '../runtime/cli/format.ts'
import { isTroupeError } from '../runtime/errors.ts'
import { Gateway } from '../runtime/gateway/server.ts'
import { Cluster } from '../runtime/node/cluster.ts'
import { ProgressBar } from './progress.ts'

const { values: flags } = parseArgs({ options: { serve: { type: 'boolean' }, port: { type: 'string' } }, strict: true })
const style = styleFor(process.stdout, process.env)
const say = (line = ''): void => void process.stdout.write(`${line}\n`)

const hostCount = 4
const counters = 500
const accounts = 20
const openingBalance = 1000
const increments = 24_000
const transfers = 6_000
const total = increments + transfers
const concurrency = 256
/** Errors after which the same call is sent again, with the same request id (so it runs at most once). */
const retryable = new Set(['CallTimeout', 'HostUnavailable', 'MailboxFull', 'StaleEpoch'])
const attemptsMax = 10

say(style.bold('troupe demo: virtual actors on a cluster of worker threads'))
const startMs = performance.now()
const cluster = await Cluster.start({
  actors: new URL('../actors/examples/index.js', import.meta.url),
  hosts: hostCount,
  replicas: 2,
  consistency: 'strong',
  limits: { callTimeoutMs: 15_000 },
})
const gateway = new Gateway({ info: { actors: 'actors/examples (demo)', replicas: 2, consistency: 'strong' } })
const wantedPort = flags.port === undefined ? 7070 : Number(flags.port)
try {
  await gateway.listen(wantedPort)
} catch {
  await gateway.listen(0)
}
gateway.attach(cluster)
const port = new URL(gateway.url).port
say(`started ${hostCount} hosts in ${formatDuration(performance.now() - startMs)} (replicas 2, consistency strong): ${cluster.view.hosts.join(', ')}`)
say(`gateway on ${style.cyan(gateway.url)}: watch it live with ${style.bold(`node bin/troupe.js top --port ${port}`)}`)
const events: string[] = []
cluster.on((event) => {
  if (event.kind === 'restart') events.push(`restarted ${event.host}`)
  if (event.kind === 'escalated') events.push(`escalated: ${event.reason}`)
})

// Opening balances, each deposit exactly once.
await Promise.all(Array.from({ length: accounts }, (_, i) => callWithRetry(`Account/acct-${i}`, 'deposit', [openingBalance], `demo-open-${i}`)))
const bankBefore = await bankTotal()

/** One operation of the workload, decided by its index alone. */
function operation(i: number): { key: string; method: string; args: unknown[]; kind: 'increment' | 'transfer'; counter?: number } {
  if (i % 5 === 4) {
    // Money flows from lower to higher account numbers: a cycle (A -> B -> C -> A) of transfers
    // waiting on each other would only end by timeout (README, "Deadlocks").
    const from = (i * 7) % (accounts - 1)
    const to = from + 1 + ((i * 13) % (accounts - 1 - from))
    return { key: `Account/acct-${from}`, method: 'transfer', args: [`acct-${to}`, 1 + (i % 9)], kind: 'transfer' }
  }
  const counter = (i * 31) % counters
  return { key: `Counter/c${counter}`, method: 'increment', args: [1], kind: 'increment', counter }
}

const acked = new Array<number>(counters).fill(0)
const unacked = new Array<number>(counters).fill(0)
let transfersDone = 0
let transfersDeclined = 0
let transfersUnknown = 0
let retries = 0
let completed = 0
let next = 0
let victim = ''
let killStartMs = 0
let failoverMs: number | undefined
let slowestDuringFailoverMs = 0
let killing: Promise<void> | undefined

const bar = new ProgressBar(total, process.stdout, style)
say(`\nworkload: ${formatCount(increments)} counter increments on ${counters} counters and ${formatCount(transfers)} transfers between ${accounts} accounts, ${concurrency} at a time; a host is killed halfway`)
const workStart = performance.now()
await Promise.all(Array.from({ length: concurrency }, async () => {
  while (next < total) {
    const i = next++
    const op = operation(i)
    const sentMs = performance.now()
    try {
      await callWithRetry(op.key, op.method, op.args, `demo-${i}`)
      if (op.kind === 'increment') acked[op.counter!]!++
      else transfersDone++
    } catch (error) {
      if (op.kind === 'transfer' && isTroupeError(error, 'ActorFailed')) transfersDeclined++ // insufficient funds: nothing moved
      else if (op.kind === 'transfer') transfersUnknown++
      else unacked[op.counter!]!++
    }
    if (killStartMs > 0 && sentMs >= killStartMs - 1) slowestDuringFailoverMs = Math.max(slowestDuringFailoverMs, performance.now() - sentMs)
    completed++
    bar.update(completed)
    if (completed >= total / 2 && killing === undefined) killing = killHalfway()
  }
}))
await killing
const workMs = performance.now() - workStart
bar.finish(completed)

/** Kills the primary of acct-0 (so the bank is hit), and measures how soon its actors answer again. */
async function killHalfway(): Promise<void> {
  victim = cluster.ownerOf(Account, 'acct-0')!
  // An actor that lived on the victim: the probe calls it until its new primary answers.
  const probe = Array.from({ length: counters }, (_, c) => `c${c}`).find((id) => cluster.ownerOf(Counter, id) === victim)!
  bar.mark(`killing ${victim}…`)
  killStartMs = performance.now()
  // The view without the victim is out as kill returns; the probe starts at once (kill itself
  // resolves once the worker has exited, a moment after the failover).
  const killed = cluster.kill(victim)
  for (;;) {
    try {
      await cluster.call(`Counter/${probe}`, 'get', [], { timeoutMs: 5000 })
      failoverMs = performance.now() - killStartMs
      break
    } catch (error) {
      if (!isTroupeError(error) || !retryable.has(error.kind)) throw error
    }
  }
  await killed
  bar.mark(`${victim} killed at 50%; its actors answered again after ${formatDuration(failoverMs)}`)
}

async function callWithRetry(key: string, method: string, args: unknown[], requestId: string): Promise<unknown> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await cluster.call(key, method, args, { requestId })
    } catch (error) {
      if (!isTroupeError(error) || !retryable.has(error.kind) || attempt >= attemptsMax) throw error
      retries++
      await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 20 * 2 ** attempt)))
    }
  }
}

async function bankTotal(): Promise<number> {
  const balances = await Promise.all(Array.from({ length: accounts }, (_, i) => callWithRetry(`Account/acct-${i}`, 'balance', [], `demo-balance-${i}-${performance.now()}`) as Promise<number>))
  return balances.reduce((a, b) => a + b, 0)
}

// The checks: read every counter and account back, after the failover.
const counts = await Promise.all(Array.from({ length: counters }, (_, c) => cluster.call(`Counter/c${c}`, 'get', []) as Promise<number>))
const lostCounters = counts.filter((count, c) => count < acked[c]!).length
const overCounters = counts.filter((count, c) => count > acked[c]! + unacked[c]!).length
const countedTotal = counts.reduce((a, b) => a + b, 0)
const ackedTotal = acked.reduce((a, b) => a + b, 0)
const bankAfter = await bankTotal()
const hosts = await cluster.hosts()
// The same actors answer over HTTP, as a serverless function would call them.
const viaHttp = await fetch(`${gateway.url}/actors/Counter/c0/get`, { method: 'POST', body: '[]' }).then((r) => r.json()) as number
const httpOk = viaHttp === counts[0]

const ok = (good: boolean): string => (good ? style.green('✓') : style.red('✗'))
const bankOk = bankAfter === bankBefore
const writesOk = lostCounters === 0 && overCounters === 0
const failoverOk = failoverMs !== undefined
say('')
say(style.bold('summary'))
const row = (label: string, text: string): void => say(`  ${label.padEnd(13)} ${text}`)
row('calls', `${formatCount(total)} (${formatCount(increments)} increments; ${formatCount(transfers)} transfers: ${formatCount(transfersDone)} moved money, ${formatCount(transfersDeclined)} declined for insufficient funds${transfersUnknown ? `, ${transfersUnknown} unresolved` : ''}); ${formatCount(retries)} retried with the same request id`)
row('throughput', `${formatCount(Math.round(total / (workMs / 1000)))} calls/s (${formatDuration(workMs)} for the workload)`)
row('failover', failoverOk ? `${victim} killed at 50%: its actors answered again after ${formatDuration(failoverMs!)}; the slowest call sent after the kill took ${formatDuration(slowestDuringFailoverMs)} ${ok(true)}` : `${style.red('the killed host\'s actors never answered again')} ${ok(false)}`)
if (events.length > 0) row('supervisor', `${events.join('; ')}; view epoch ${cluster.view.epoch}: ${cluster.view.hosts.join(', ')}`)
row('bank total', `${formatCount(bankBefore)} before, ${formatCount(bankAfter)} after: ${bankOk ? 'unchanged' : style.red('CHANGED')} ${ok(bankOk)}`)
row('acked writes', `${formatCount(ackedTotal)} increments acknowledged, ${formatCount(countedTotal)} counted${unacked.some((u) => u > 0) ? ` (${unacked.reduce((a, b) => a + b, 0)} unacknowledged)` : ''}: ${writesOk ? 'none lost, none applied twice' : style.red(`${lostCounters} counters lost acknowledged writes, ${overCounters} counted more than was sent`)} ${ok(writesOk)}`)
say('')
say('hosts:')
for (const h of hosts) {
  say(`  ${h.id.padEnd(7)} ${h.state === 'up' ? style.green('up  ') : style.red(h.state.padEnd(4))} ${formatCount(h.activations).padStart(5)} actors ${formatCount(h.replicas).padStart(5)} replicas ${formatCount(h.turns).padStart(7)} turns${h.restarts ? `  restarted ${h.restarts}×` : ''}`)
}
// Where actors live: the first accounts and counters, by primary then backups (the view after the failover).
const placed = (key: string): string => {
  const [type, id] = [key.slice(0, key.indexOf('/')), key.slice(key.indexOf('/') + 1)]
  const [primary, ...backups] = cluster.ownersOf(type, id)
  return `${key} on ${primary}${backups.length > 0 ? ` (backups ${backups.join(', ')})` : ''}`
}
const shown = [...Array.from({ length: Math.min(accounts, 6) }, (_, i) => `Account/acct-${i}`), ...Array.from({ length: Math.min(counters, 4) }, (_, c) => `Counter/c${c}`)]
say('\nwhere actors live:')
for (let i = 0; i < shown.length; i += 2) say(`  ${shown.slice(i, i + 2).map(placed).map((text) => text.padEnd(50)).join(' ').trimEnd()}`)
say(`\nthrough the HTTP gateway: POST ${gateway.url}/actors/Counter/c0/get -> ${viaHttp} ${ok(httpOk)}`)
const passed = bankOk && writesOk && failoverOk && httpOk
say('')
say(passed ? style.green(style.bold('demo ok')) : style.red(style.bold('demo FAILED')))

if (flags.serve && passed) {
  const t = `node bin/troupe.js`
  const p = port === '7070' ? '' : ` --port ${port}`
  say(`\nthe cluster keeps serving on ${gateway.url} until Ctrl-C. In another terminal, try:`)
  for (const command of ['status', 'top', 'call Counter/c1 get', `call Account/acct-3 transfer '"acct-7"' 5`, 'what-if kill host-1 --actor Counter/c1', 'kill host-1', 'drain host-2', 'scale 5', 'journal Counter/c1']) {
    say(`  ${t} ${command}${p}`)
  }
  say(`  curl -X POST ${gateway.url}/actors/Counter/c1/increment -d '[5]'`)
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve)
    process.once('SIGTERM', resolve)
  })
  say('\nstopping')
}
await gateway.close()
await cluster.stop()
process.exitCode = passed ? 0 : 1
