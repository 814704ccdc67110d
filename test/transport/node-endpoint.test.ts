import { once } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import { MessageChannel, Worker } from 'node:worker_threads'
import { describe, expect, test } from 'vitest'
import { nodeEndpoint } from '../../transport/node-endpoint.ts'
import { PortTransport } from '../../transport/port.ts'
import { call, Recorder } from './conformance.ts'

function nextMessage(listen: (handler: (data: unknown) => void) => void): Promise<unknown> {
  return new Promise((resolve) => listen(resolve))
}

describe('nodeEndpoint', () => {
  test('carries structured clones between the two ends of a MessageChannel', async () => {
    const { port1, port2 } = new MessageChannel()
    const left = nodeEndpoint(port1)
    const right = nodeEndpoint(port2)
    const received = nextMessage((handler) => right.listen(handler))
    const sent = { frame: [1, 'two', { three: 3n }] }
    left.postMessage(sent)
    const got = await received
    expect(got).toEqual(sent)
    expect(got).not.toBe(sent)
    left.close()
  })

  test('listening again replaces the previous handler', async () => {
    const { port1, port2 } = new MessageChannel()
    const right = nodeEndpoint(port2)
    const first: unknown[] = []
    right.listen((data) => first.push(data))
    const second = nextMessage((handler) => right.listen(handler))
    port1.postMessage('hello')
    expect(await second).toBe('hello')
    expect(first).toEqual([])
    expect(port2.listenerCount('message')).toBe(1)
    port1.close()
  })

  test('posting a function throws synchronously', () => {
    const { port1 } = new MessageChannel()
    const left = nodeEndpoint(port1)
    expect(() => left.postMessage([() => 1])).toThrow()
    left.close()
  })

  test('a PortTransport gets its frames back from an echoing Worker, tagged with the link peer id', async () => {
    const { port1, port2 } = new MessageChannel()
    const worker = new Worker(new URL('./fixtures/relay-worker.mjs', import.meta.url), { workerData: { echo: [port2] }, transferList: [port2] })
    try {
      await once(worker, 'message')
      const transport = new PortTransport('a', [['echo', nodeEndpoint(port1)]])
      const recorder = new Recorder(transport)
      transport.send('echo', call('e1', [{ n: 1 }]))
      transport.send('echo', call('e2'))
      for (let i = 0; i < 400 && recorder.envelopes.length < 2; i++) await sleep(5)
      expect(recorder.envelopes.map((e) => [e.from, e.envelope.id])).toEqual([['echo', 'e1'], ['echo', 'e2']])
      expect(recorder.envelopes[0]!.envelope).toEqual(call('e1', [{ n: 1 }]))
      expect(recorder.envelopes[0]!.batch).toBe(recorder.envelopes[1]!.batch)
      transport.close()
    } finally {
      await worker.terminate()
    }
  })
})

describe('a silenced PortTransport', () => {
  test('sends nothing while silenced (no frame, no undeliverable report), and again once it is not', async () => {
    const { port1, port2 } = new MessageChannel()
    let silenced = false
    const transport = new PortTransport('a', [['b', nodeEndpoint(port1)]], { silenced: () => silenced })
    const undeliverable: string[] = []
    transport.listen({ envelope: () => undefined, undeliverable: (_to, envelope) => undeliverable.push(envelope.id) })
    const received: unknown[] = []
    port2.on('message', (data) => received.push(data))
    try {
      silenced = true
      transport.send('b', call('quiet-1'))
      transport.send('b', call('quiet-2'))
      await sleep(20)
      expect(received).toEqual([])
      expect(undeliverable).toEqual([])
      silenced = false
      transport.send('b', call('heard'))
      for (let i = 0; i < 200 && received.length === 0; i++) await sleep(5)
      expect(received).toHaveLength(1)
      expect(JSON.stringify(received[0])).toContain('heard')
      expect(JSON.stringify(received[0])).not.toContain('quiet')
    } finally {
      transport.close()
      port2.close()
    }
  })

  test('drops what arrives while silenced (the host does no more work), and hears again once it is not', async () => {
    const { port1, port2 } = new MessageChannel()
    let silenced = false
    const transport = new PortTransport('a', [['b', nodeEndpoint(port1)]], { silenced: () => silenced })
    const heard: string[] = []
    transport.listen({ envelope: (_from, envelope) => void heard.push(envelope.id) })
    const peer = new PortTransport('b', [['a', nodeEndpoint(port2)]])
    try {
      silenced = true
      peer.send('a', call('while-silenced'))
      await sleep(20)
      expect(heard).toEqual([])
      silenced = false
      peer.send('a', call('after'))
      for (let i = 0; i < 200 && heard.length === 0; i++) await sleep(5)
      expect(heard).toEqual(['after'])
    } finally {
      transport.close()
      peer.close()
    }
  })
})
