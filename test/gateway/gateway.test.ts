/** The HTTP gateway of a real `troupe start`, driven with fetch as a serverless caller would. */
import { request } from 'node:http'
import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { ClusterStatus } from '../../runtime/gateway/server.ts'
import type { WhatIfKill } from '../../runtime/gateway/what-if.ts'
import { examples, get, post, startCluster, type ErrorBody, type Running } from '../cli/helpers.ts'

let cluster: Running
beforeAll(async () => {
  cluster = await startCluster([examples, '--hosts', '3', '--port', '0', '--body-limit', '65536'])
})
afterAll(async () => {
  expect(await cluster?.stop()).toBe(0)
})

/** Sends `requestLine` with `headers` (lines, repeats kept) and `body` on a socket of its own, as written. */
function rawRequest(requestLine: string, headers: string[] = [], body = ''): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const head = [`${requestLine} HTTP/1.1`, 'Host: x', ...headers, `Content-Length: ${Buffer.byteLength(body)}`, 'Connection: close']
    const socket = connect(cluster.port, '127.0.0.1', () => socket.write(`${head.join('\r\n')}\r\n\r\n${body}`))
    let text = ''
    socket.on('data', (chunk: Buffer) => { text += chunk.toString() })
    socket.on('error', reject)
    socket.on('close', () => resolve({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(text)?.[1]), body: text.split('\r\n\r\n')[1] ?? '' }))
  })
}

describe('POST /actors/:type/:id/:method', () => {
  test('answers the JSON result of the call', async () => {
    expect(await post(cluster.url, '/actors/Counter/http-a/increment', '[5]')).toMatchObject({ status: 200, body: 5 })
    expect(await post(cluster.url, '/actors/Counter/http-a/increment', '[2]')).toMatchObject({ status: 200, body: 7 })
    expect(await post(cluster.url, '/actors/Counter/http-a/get', '')).toMatchObject({ status: 200, body: 7 })
    const room = '/actors/ChatRoom/lobby'
    await post(cluster.url, `${room}/join`, '["ada"]')
    await post(cluster.url, `${room}/post`, '["ada", "hi"]')
    expect((await post(cluster.url, `${room}/history`, '[]')).body).toEqual([{ from: 'ada', text: 'hi', seq: 1 }])
  })

  test('ids are percent-decoded path segments', async () => {
    expect((await post(cluster.url, `/actors/Counter/${encodeURIComponent('a/b c')}/increment`, '[1]')).body).toBe(1)
    expect((await post(cluster.url, `/actors/Counter/${encodeURIComponent('a/b c')}/get`, '[]')).body).toBe(1)
  })

  test('dot segments are segments, as sent: "%2e%2e" is an id, never a way out of /actors/', async () => {
    // fetch would resolve the dots before sending: a raw request sends the path as it is.
    const raw = (method: string, path: string): Promise<{ status: number; body: string }> => new Promise((resolve, reject) => {
      const req = request(new URL(path, cluster.url), { method, path, headers: { 'content-type': 'application/json' } }, (res) => {
        let body = ''
        res.on('data', (chunk: Buffer) => { body += chunk.toString() })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
      })
      req.on('error', reject)
      req.end(method === 'POST' ? '[1]' : undefined)
    })
    const viewBefore = ((await get(cluster.url, '/status')).body as unknown as ClusterStatus).view
    expect((await raw('POST', '/actors/%2e%2e/hosts/host-1/kill')).status).toBe(404)
    expect((await raw('GET', '/actors/%2e%2e/status')).status).toBe(404)
    expect(await raw('POST', '/actors/Counter/%2e%2e/increment')).toMatchObject({ status: 200, body: '1' })
    expect(await raw('POST', '/actors/Counter/./increment')).toMatchObject({ status: 200, body: '1' })
    expect(((await get(cluster.url, '/status')).body as unknown as ClusterStatus).view).toEqual(viewBefore)
  })

  test('an absolute-form target routes its path as sent too; any other form is a 400', async () => {
    // What a proxy sends ("POST http://host/path HTTP/1.1"): fetch and node:http never do.
    const raw = (target: string, method = 'POST'): Promise<{ status: number; body: string }> => rawRequest(`${method} ${target}`)
    const viewBefore = ((await get(cluster.url, '/status')).body as unknown as ClusterStatus).view
    expect((await raw('http://gw/actors/x/../../hosts/host-1/kill')).status).toBe(404)
    expect((await raw('http://gw/actors/x/%2e%2e/%2e%2e/hosts/host-0/kill')).status).toBe(404)
    expect((await raw('HTTP://gw:80/actors/%2E%2E/status', 'GET')).status).toBe(404)
    expect(await raw('http://gw/actors/Counter/%2e%2e/get')).toMatchObject({ status: 200, body: '1' })
    expect(await raw('http://gw/healthz', 'GET')).toMatchObject({ status: 200 })
    expect(await raw('http://gw?x', 'GET')).toMatchObject({ status: 404 })
    expect(JSON.parse((await raw('http://gw/what-if?kill=host-1&actor=Counter/abs', 'GET')).body).actors[0]).toMatchObject({ key: 'Counter/abs' })
    expect(await raw('*', 'OPTIONS')).toMatchObject({ status: 400, body: expect.stringContaining('InvalidArgument') })
    expect((await raw('gw:80/hosts/host-1/kill')).status).toBe(400)
    expect(((await get(cluster.url, '/status')).body as unknown as ClusterStatus).view).toEqual(viewBefore)
  })

  test('an Idempotency-Key makes a repeated call return the first result without running again', async () => {
    const headers = { 'idempotency-key': 'deposit-1' }
    expect((await post(cluster.url, '/actors/Account/idem/deposit', '[100]', headers)).body).toBe(100)
    expect((await post(cluster.url, '/actors/Account/idem/deposit', '[100]', headers)).body).toBe(100)
    expect((await post(cluster.url, '/actors/Account/idem/balance', '[]')).body).toBe(100)
    expect((await post(cluster.url, '/actors/Account/idem/deposit', '[1]', { 'idempotency-key': 'x'.repeat(257) })).status).toBe(400)
    // The runtime's own ids start with "~": a key that does is refused, not taken for one of them.
    const reserved = await post(cluster.url, '/actors/Account/idem/deposit', '[1]', { 'idempotency-key': '~timer:deposit-1' })
    expect(reserved).toMatchObject({ status: 400, body: { kind: 'InvalidArgument' } })
    expect((reserved.body as { message: string }).message).toMatch(/Idempotency-Key may not start with "~"/)
    expect((await post(cluster.url, '/actors/Account/idem/balance', '[]')).body).toBe(100)
  })

  test('an Idempotency-Key with a C1 control character, or a call header sent twice, is a 400', async () => {
    const c1 = await post<ErrorBody>(cluster.url, '/actors/Counter/idem-c1/increment', '[1]', { 'idempotency-key': 'x\x85y' })
    expect(c1).toMatchObject({ status: 400, body: { kind: 'InvalidArgument' } })
    expect(c1.body.message).toMatch(/Idempotency-Key may hold only well-formed, printable characters/)
    // Node joins two headers into "a, b": that is not the key "a, b", nor either one.
    for (const name of ['Idempotency-Key', 'X-Timeout-Ms', 'Consistency']) {
      const value = name === 'X-Timeout-Ms' ? '5000' : name === 'Consistency' ? 'strong' : 'twice'
      const twice = await rawRequest('POST /actors/Counter/idem-twice/increment', [`${name}: ${value}`, `${name}: ${value}`], '[1]')
      expect(twice.status).toBe(400)
      expect(JSON.parse(twice.body)).toEqual({ kind: 'InvalidArgument', message: `the ${name} header was sent 2 times; send it once` })
    }
    expect(await post(cluster.url, '/actors/Counter/idem-twice/increment', '[1]', { 'idempotency-key': 'twice, twice' })).toMatchObject({ status: 200, body: 1 })
  })

  test('a Consistency header sets the call\'s own level; a bad one is a 400', async () => {
    expect(await post(cluster.url, '/actors/Counter/http-level/increment', '[2]', { consistency: 'local' })).toMatchObject({ status: 200, body: 2 })
    expect(await post(cluster.url, '/actors/Counter/http-level/increment', '[3]', { consistency: 'memory' })).toMatchObject({ status: 200, body: 5 })
    const bad = await post<ErrorBody>(cluster.url, '/actors/Counter/http-level/increment', '[1]', { consistency: 'eventual' })
    expect(bad.status).toBe(400)
    expect(bad.body.kind).toBe('InvalidArgument')
    expect(await post(cluster.url, '/actors/Counter/http-level/get', '[]')).toMatchObject({ status: 200, body: 5 })
  })

  test('typed errors map to statuses with a { kind, message } body', async () => {
    const unknownType = await post<ErrorBody>(cluster.url, '/actors/Nope/x/get', '[]')
    expect(unknownType.status).toBe(404)
    expect(unknownType.body).toMatchObject({ kind: 'UnknownActorType' })
    expect(unknownType.body.message).toMatch(/Nope/)
    const unknownMethod = await post(cluster.url, '/actors/Counter/x/explode', '[]')
    expect(unknownMethod).toMatchObject({ status: 404, body: { kind: 'UnknownMethod' } })
    const failed = await post<ErrorBody>(cluster.url, '/actors/Account/poor/withdraw', '[5]')
    expect(failed.status).toBe(500)
    expect(failed.body).toMatchObject({ kind: 'ActorFailed', name: 'RangeError', actor: 'Account/poor', data: { code: 'INSUFFICIENT_FUNDS', balance: 0, requested: 5 } })
    expect(failed.body.message).toMatch(/insufficient funds/)
    expect(failed.body.stack).toBeUndefined()
    const badArgument = await post(cluster.url, '/actors/Account/poor/deposit', '[-1]')
    expect(badArgument).toMatchObject({ status: 500, body: { kind: 'ActorFailed', name: 'TypeError' } })
  })

  test('bad JSON, a body that is not an array, and a wrong HTTP method are refused', async () => {
    const bad = await post<ErrorBody>(cluster.url, '/actors/Counter/x/increment', '[1,')
    expect(bad.status).toBe(400)
    expect(bad.body.kind).toBe('InvalidArgument')
    expect(bad.body.message).toMatch(/not valid JSON/)
    expect(await post(cluster.url, '/actors/Counter/x/increment', '{"by":1}')).toMatchObject({ status: 400, body: { kind: 'InvalidArgument' } })
    expect(await post(cluster.url, '/actors/Counter/x/increment', '1')).toMatchObject({ status: 400 })
    // Bytes that are not UTF-8 are refused, not turned into U+FFFD; a UTF-8 byte order mark is dropped.
    const latin1 = await fetch(`${cluster.url}/actors/Counter/x/increment`, { method: 'POST', body: new Uint8Array([0x5b, 0x22, 0xe9, 0x22, 0x5d]) })
    expect(latin1.status).toBe(400)
    expect(await latin1.json()).toMatchObject({ kind: 'InvalidArgument', message: 'the body is not valid UTF-8' })
    const bom = await fetch(`${cluster.url}/actors/Counter/bom/increment`, { method: 'POST', body: new Uint8Array([0xef, 0xbb, 0xbf, 0x5b, 0x32, 0x5d]) })
    expect(await bom.json()).toBe(2)
    const wrongMethod = await fetch(`${cluster.url}/actors/Counter/x/get`)
    expect(wrongMethod.status).toBe(405)
    expect(wrongMethod.headers.get('allow')).toBe('POST')
    expect(await get(cluster.url, '/nowhere')).toMatchObject({ status: 404, body: { kind: 'NotFound' } })
    expect(await post(cluster.url, '/actors/Counter/x/increment', '[1]', { 'x-timeout-ms': 'soon' })).toMatchObject({ status: 400 })
    // Digits only: Number() would read the first three as 1000, 16 and 5.
    for (const ms of ['1e3', '0x10', '5.0', '-5']) expect(await post(cluster.url, '/actors/Counter/x/increment', '[1]', { 'x-timeout-ms': ms })).toMatchObject({ status: 400 })
  })

  test('bodies over the limit get 413, declared or streamed, and the gateway keeps serving', async () => {
    const big = `["${'x'.repeat(100_000)}"]`
    const declared = await post(cluster.url, '/actors/ChatRoom/big/join', big)
    expect(declared).toMatchObject({ status: 413, body: { kind: 'PayloadTooLarge' } })
    const chunks = [new TextEncoder().encode('["'), new TextEncoder().encode('y'.repeat(80_000)), new TextEncoder().encode('"]')]
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks.shift()
        if (next) controller.enqueue(next)
        else controller.close()
      },
    })
    const streamed = await fetch(`${cluster.url}/actors/ChatRoom/big/join`, { method: 'POST', body: stream, duplex: 'half' } as RequestInit)
    expect(streamed.status).toBe(413)
    expect((await streamed.json()).kind).toBe('PayloadTooLarge')
    expect((await post(cluster.url, '/actors/Counter/after-413/increment', '[1]')).body).toBe(1)
  })

  test('arguments the runtime refuses answer 400 (Unserializable) or 413 (PayloadTooLarge)', async () => {
    const deep = '['.repeat(100) + ']'.repeat(100)
    const refused = await post<ErrorBody>(cluster.url, '/actors/Counter/x/increment', deep)
    expect(refused.status).toBe(400)
    expect(refused.body.kind).toBe('Unserializable')
  })
})

describe('health, status and what-if', () => {
  test('GET /healthz', async () => {
    expect(await get(cluster.url, '/healthz')).toMatchObject({ status: 200, body: { status: 'ok', hosts: 3 } })
    // Load balancers probe with HEAD: the same status, no body.
    const head = await fetch(`${cluster.url}/healthz`, { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(await head.text()).toBe('')
    const options = await fetch(`${cluster.url}/healthz`, { method: 'OPTIONS' })
    expect(options.status).toBe(405)
    expect(options.headers.get('allow')).toBe('GET, HEAD')
  })

  test('GET /status lists hosts with counters, ring share and what the cluster supports', async () => {
    await post(cluster.url, '/actors/Counter/status-probe/increment', '[1]')
    const { status, body } = await get<ClusterStatus>(cluster.url, '/status')
    expect(status).toBe(200)
    expect(body.view.hosts).toHaveLength(3)
    expect(body.cluster).toMatchObject({ replicas: 2, consistency: 'strong', hostsUp: 3, hostsDown: 0 })
    expect(body.hosts.map((h) => h.id)).toEqual(['host-0', 'host-1', 'host-2'])
    for (const host of body.hosts) {
      expect(host.state).toBe('up')
      expect(typeof host.activations).toBe('number')
      expect(host.ringShare).toBeGreaterThan(0.2)
      expect(host.restarts).toBe(0)
    }
    expect(body.hosts.reduce((a, h) => a + h.ringShare, 0)).toBeCloseTo(1, 6)
    expect(body.hosts.some((h) => h.p99Ms !== null)).toBe(true)
    expect(body.supports.kill).toBe(true)
  })

  test('GET /what-if?kill= moves exactly the shards the host is primary of, to hosts holding a replica', async () => {
    const { status, body } = await get<WhatIfKill>(cluster.url, '/what-if?kill=host-1&actor=Counter/http-a')
    expect(status).toBe(200)
    expect(body.after.hosts).toEqual(['host-0', 'host-2'])
    const moved = body.moves.reduce((a, m) => a + m.shards, 0)
    expect(moved).toBe(body.primaryShards)
    expect(body.moves.every((m) => m.cold === 0)).toBe(true) // replicas 2 on 3 hosts: every host holds every shard
    expect(body.actors[0]).toMatchObject({ key: 'Counter/http-a' })
    expect(await get(cluster.url, '/what-if?kill=host-9')).toMatchObject({ status: 404, body: { kind: 'NotFound' } })
    expect(await get(cluster.url, '/what-if')).toMatchObject({ status: 400 })
    for (const replicas of ['', '1e0', '-1', '8']) expect(await get(cluster.url, `/what-if?kill=host-1&replicas=${replicas}`)).toMatchObject({ status: 400, body: { kind: 'InvalidArgument' } })
    // Nothing changed.
    expect((await get<ClusterStatus>(cluster.url, '/status')).body.view.epoch).toBe(1)
  })

  test("GET /journal/:type/:id answers the actor's journal records from its primary", async () => {
    const { status, body } = await get<{ key: string; journal: { records: Array<{ seq: number; epoch: number }> } }>(cluster.url, '/journal/Counter/http-a')
    expect(status).toBe(200)
    expect(body.key).toBe('Counter/http-a')
    expect(body.journal.records.length).toBeGreaterThan(0)
    expect(body.journal.records[0]).toMatchObject({ seq: 1, epoch: 1 })
    expect(await get(cluster.url, '/journal/Nope/x')).toMatchObject({ status: 404, body: { kind: 'UnknownActorType' } })
  })
})

describe('bad input answers 4xx with { kind, message } and the cluster keeps serving', () => {
  const expectError = (answer: { status: number; body: unknown }, status: number, kind: string, message: RegExp): void => {
    expect(answer.status, JSON.stringify(answer.body)).toBe(status)
    const body = answer.body as ErrorBody
    expect(Object.keys(body).sort()).toEqual(['kind', 'message'])
    expect(body.kind).toBe(kind)
    expect(body.message).toMatch(message)
  }

  test('bad percent-encoding in a path segment', async () => {
    expectError(await post(cluster.url, '/actors/Counter/%E0%A4%A/get', '[]'), 400, 'InvalidArgument', /bad percent-encoding in path segment "%E0%A4%A"/)
    expectError(await post(cluster.url, '/actors/%ZZ/x/get', '[]'), 400, 'InvalidArgument', /bad percent-encoding/)
    expectError(await get(cluster.url, '/journal/Counter/%E0%A4%A'), 400, 'InvalidArgument', /bad percent-encoding/)
    expectError(await post(cluster.url, '/hosts/host-%G0/kill', ''), 400, 'InvalidArgument', /bad percent-encoding/)
  })

  test.each([
    ['not JSON', 'three', /not valid JSON/],
    ['empty', '', /not valid JSON/],
    ['null', 'null', /\{ "hosts": n \}/],
    ['an array', '[3]', /\{ "hosts": n \}/],
    ['a string count', '{"hosts":"3"}', /\{ "hosts": n \}/],
    ['no count', '{"host":3}', /\{ "hosts": n \}/],
    ['zero', '{"hosts":0}', /positive integer/],
    ['negative', '{"hosts":-2}', /positive integer/],
    ['not an integer', '{"hosts":2.5}', /positive integer/],
    ['a number JSON reads as Infinity', '{"hosts":1e400}', /positive integer/],
    ['above the most hosts a cluster runs', '{"hosts":100000}', /scale needs an integer from 1 to 256/],
  ])('POST /scale with a body %s', async (_name, body, message) => {
    expectError(await post(cluster.url, '/scale', body), 400, 'InvalidArgument', message)
  })

  test('kill and drain of a host that does not exist', async () => {
    expectError(await post(cluster.url, '/hosts/host-9/kill', ''), 404, 'NotFound', /no host host-9 \(hosts: host-0, host-1, host-2\)/)
    expectError(await post(cluster.url, '/hosts/host-9/drain', ''), 404, 'NotFound', /no host host-9/)
    expectError(await post(cluster.url, `/hosts/${encodeURIComponent('host-0/kill')}/kill`, ''), 404, 'NotFound', /no host host-0\/kill/)
    expectError(await post(cluster.url, '/hosts//drain', ''), 404, 'NotFound', /no host /)
  })

  test('after all of it, nothing changed and calls are answered', async () => {
    expect(await get(cluster.url, '/healthz')).toMatchObject({ status: 200, body: { status: 'ok', epoch: 1, hosts: 3 } })
    const { body } = await get<ClusterStatus>(cluster.url, '/status')
    expect(body.hosts.map((h) => [h.id, h.state])).toEqual([['host-0', 'up'], ['host-1', 'up'], ['host-2', 'up']])
    expect(body.events.filter((e) => e.kind !== 'view')).toEqual([])
    expect((await post(cluster.url, '/actors/Counter/after-bad-input/increment', '[3]')).body).toBe(3)
  })
})
