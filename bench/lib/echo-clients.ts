/**
 * The baselines' near side: clients of bench/fixtures/echo-worker.js over MessageChannel ports
 * (the same kind of link troupe's client uses), one per way of calling across threads.
 */
import * as Comlink from 'comlink'
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads'
import { comlinkEndpoint } from '../../runtime/node/comlink-endpoint.ts'

interface Request { id: number; method: string; args: unknown[] }
interface Reply { id: number; value: unknown }
type Resolve = (value: unknown) => void

/** Calls `increment(by)` on the echo worker. */
export type Increment = (by: number) => Promise<unknown>

export interface EchoClients {
  /** One postMessage per call, one per reply: the plain request/response baseline. */
  raw: Increment
  /** Requests collected per microtask and posted as one array; replies come back as arrays. */
  batched: Increment
  /** comlink 4.4.2 calls on a plain object in the worker. */
  comlink: Increment
  stop(): Promise<void>
}

/** Starts the echo worker and resolves once it answers on every port. */
export async function startEchoClients(): Promise<EchoClients> {
  const raw = new MessageChannel()
  const batched = new MessageChannel()
  const comlink = new MessageChannel()
  const worker = new Worker(new URL('../fixtures/echo-worker.js', import.meta.url), {
    workerData: { raw: raw.port2, batched: batched.port2, comlink: comlink.port2 },
    transferList: [raw.port2, batched.port2, comlink.port2],
    name: 'echo',
  })
  const remote = Comlink.wrap<{ increment(by: number): number }>(comlinkEndpoint(comlink.port1))
  const clients: EchoClients = {
    raw: rawClient(raw.port1),
    batched: batchedClient(batched.port1),
    comlink: (by) => remote.increment(by),
    async stop() {
      remote[Comlink.releaseProxy]()
      for (const port of [raw.port1, batched.port1, comlink.port1]) port.close()
      await worker.terminate()
    },
  }
  await Promise.all([clients.raw(0), clients.batched(0), clients.comlink(0)])
  return clients
}

function rawClient(port: MessagePort): Increment {
  const pending = new Map<number, Resolve>()
  let nextId = 0
  port.on('message', (reply: Reply) => {
    const resolve = pending.get(reply.id)!
    pending.delete(reply.id)
    resolve(reply.value)
  })
  return (by) => new Promise((resolve) => {
    const id = nextId++
    pending.set(id, resolve)
    const request: Request = { id, method: 'increment', args: [by] }
    port.postMessage(request)
  })
}

function batchedClient(port: MessagePort): Increment {
  const pending = new Map<number, Resolve>()
  let nextId = 0
  let queued: Request[] = []
  const flush = (): void => {
    const batch = queued
    queued = []
    port.postMessage(batch)
  }
  port.on('message', (replies: Reply[]) => {
    for (const reply of replies) {
      const resolve = pending.get(reply.id)!
      pending.delete(reply.id)
      resolve(reply.value)
    }
  })
  return (by) => new Promise((resolve) => {
    const id = nextId++
    pending.set(id, resolve)
    if (queued.push({ id, method: 'increment', args: [by] }) === 1) queueMicrotask(flush)
  })
}
