/**
 * A cluster on a dataDir that writes until its process is killed (SIGKILL: no drain, no flush,
 * no stop), for the whole-cluster crash test in cluster-durability.test.ts. Usage:
 *   node crashing-cluster.mjs <dataDir> <ackFile> <keys>
 * Each key gets one logical increment after another (`c<k>#<n>`, retried with the same request id
 * until it is answered), so at most one is in flight per key. Every answer is appended to the ack
 * file (one write(2) each) before the next increment is sent: the file holds every acknowledgement
 * this client got before the process died, and nothing else.
 */
import { appendFileSync } from 'node:fs'
import { Cluster, isTroupeError } from '../../dist/index.js'

const [dataDir, ackFile, keys] = process.argv.slice(2)
const cluster = await Cluster.start({ actors: new URL('../fixtures/durable/actors.js', import.meta.url), hosts: 3, dataDir, limits: { callRetryMs: 200 } })
appendFileSync(ackFile, 'ready\n')
await Promise.all(Array.from({ length: Number(keys) }, async (_, k) => {
  for (let n = 1; ; n++) {
    for (;;) {
      try {
        const value = await cluster.call(`Counter/c${k}`, 'increment', [1], { requestId: `c${k}#${n}` })
        appendFileSync(ackFile, `c${k} ${n} ${value}\n`)
        break
      } catch (error) {
        if (!isTroupeError(error)) throw error
      }
    }
  }
}))
