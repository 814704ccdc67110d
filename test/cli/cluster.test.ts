/** The commands against a running `troupe start`, each through the real binary. */
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { WhatIfKill } from '../../runtime/gateway/what-if.ts'
import { examples, get, post, startCluster, troupe, type Running } from './helpers.ts'

let cluster: Running
let port: string
beforeAll(async () => {
  cluster = await startCluster([examples, '--hosts', '4', '--port', '0'])
  port = String(cluster.port)
})
afterAll(async () => {
  const code = await cluster?.stop('SIGTERM')
  expect(cluster.output()).toMatch(/SIGTERM: stopping/)
  expect(code).toBe(0)
})

describe('troupe call', () => {
  test('calls an actor and prints the JSON result; HTTP and the CLI see the same actor', async () => {
    const first = await troupe(['call', 'Counter/cli-a', 'increment', '5', '--port', port])
    expect(first).toMatchObject({ code: 0, stdout: '5\n' })
    expect((await post(cluster.url, '/actors/Counter/cli-a/increment', '[2]')).body).toBe(7)
    expect((await troupe(['call', 'Counter/cli-a', 'increment', '-p', port, '--', '-1'])).stdout).toBe('6\n')
    const room = await troupe(['call', 'ChatRoom/cli', 'join', '"ada"', '-p', port])
    expect(room.stdout).toBe('1\n')
    await troupe(['call', 'ChatRoom/cli', 'post', '"ada"', '"hello"', '-p', port])
    const history = await troupe(['call', 'ChatRoom/cli', 'history', '-p', port])
    expect(JSON.parse(history.stdout)).toEqual([{ from: 'ada', text: 'hello', seq: 1 }])
  })

  test('--idempotency-key: a repeated call returns the first result and runs once', async () => {
    const args = ['call', 'Account/cli-k', 'deposit', '50', '-k', 'cli-deposit-1', '-p', port]
    expect((await troupe(args)).stdout).toBe('50\n')
    expect((await troupe(args)).stdout).toBe('50\n')
    expect((await troupe(['call', 'Account/cli-k', 'balance', '-p', port])).stdout).toBe('50\n')
    // A Latin-1 key is one a header carries: the same key again is the same call.
    const latin = ['call', 'Account/cli-k', 'deposit', '5', '-k', 'dépôt-1', '-p', port]
    expect((await troupe(latin)).stdout).toBe('55\n')
    expect((await troupe(latin)).stdout).toBe('55\n')
  })

  test('an actor whose type or id is "." or ".." is reached, not a dot segment resolved away', async () => {
    expect(await troupe(['call', 'Counter/..', 'increment', '5', '-p', port])).toMatchObject({ code: 0, stdout: '5\n' })
    expect(await troupe(['call', 'Counter/.', 'increment', '2', '-p', port])).toMatchObject({ code: 0, stdout: '2\n' })
    expect(await troupe(['call', '../..', 'get', '-p', port])).toMatchObject({ code: 1, stderr: expect.stringMatching(/UnknownActorType: no actor type \.\./) })
    expect((await post(cluster.url, `/actors/Counter/${encodeURIComponent('%2e%2e')}/get`, '[]')).body).toBe(0)
    const journal = await troupe(['journal', 'Counter/..', '-p', port])
    expect(journal.code).toBe(0)
    expect(journal.stdout).toMatch(/^journal of Counter\/\.\.\n/)
  })

  test('failures exit 1 with the error kind and message', async () => {
    const failed = await troupe(['call', 'Account/cli-poor', 'withdraw', '5', '-p', port])
    expect(failed.code).toBe(1)
    expect(failed.stderr).toContain('ActorFailed: RangeError: insufficient funds: 0 < 5 (Account/cli-poor)')
    const unknown = await troupe(['call', 'Ghost/x', 'get', '-p', port])
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toMatch(/UnknownActorType: no actor type Ghost/)
    const method = await troupe(['call', 'Counter/x', 'explode', '-p', port])
    expect(method.code).toBe(1)
    expect(method.stderr).toMatch(/UnknownMethod/)
  })
})

describe('strings from the gateway on a terminal', () => {
  // Newlines are the CLI's own; any other control character came from the gateway.
  const controls = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/

  test('print with their control characters escaped, never acted on; JSON stays JSON of the same value', async () => {
    const id = 'esc\x1b[2J\x1b]0;pwned\x07\x7f\x9b1m'
    const shown = 'esc\\u001b[2J\\u001b]0;pwned\\u0007\\u007f\\u009b1m'
    const whatIf = await troupe(['what-if', 'kill', 'host-0', '--actor', `Counter/${id}`, '-p', port])
    expect(whatIf.code).toBe(0)
    expect(whatIf.stdout).not.toMatch(controls)
    expect(whatIf.stdout).toContain(`Counter/${shown}`)
    const json = await troupe(['what-if', 'kill', 'host-0', '--actor', `Counter/${id}`, '--json', '-p', port])
    expect(json.stdout).not.toMatch(controls)
    expect(JSON.parse(json.stdout).actors[0].key).toBe(`Counter/${id}`)

    const room = `ChatRoom/room\x9b`
    expect(await troupe(['call', room, 'join', '"ada\\u001b[2J\\u0085"', '-p', port])).toMatchObject({ code: 0, stdout: '1\n' })
    await troupe(['call', room, 'post', '"ada\\u001b[2J\\u0085"', '"hi\\u009b"', '-p', port])
    const history = await troupe(['call', room, 'history', '-p', port])
    expect(history.stdout).not.toMatch(controls)
    expect(JSON.parse(history.stdout)).toEqual([{ from: 'ada\x1b[2J\x85', text: 'hi\x9b', seq: 1 }])
    const failed = await troupe(['call', room, 'post', '"\\u001b]0;x\\u0007eve"', '"hi"', '-p', port])
    expect(failed.code).toBe(1)
    expect(failed.stderr).not.toMatch(controls)
    expect(failed.stderr).toContain('ActorFailed: Error: \\u001b]0;x\\u0007eve has not joined room\\u009b (ChatRoom/room\\u009b)')
    const journal = await troupe(['journal', room, '-p', port])
    expect(journal.code).toBe(0)
    expect(journal.stdout).not.toMatch(controls)
    expect(journal.stdout).toContain('journal of ChatRoom/room\\u009b')
    expect(journal.stdout).toContain('ada\\u001b[2J\\u0085')
  })
})

describe('status, top and what-if', () => {
  test('troupe status --json is the gateway\'s status', async () => {
    const result = await troupe(['status', '--json', '-p', port])
    expect(result.code).toBe(0)
    const status = JSON.parse(result.stdout)
    expect(status.view.hosts).toEqual(['host-0', 'host-1', 'host-2', 'host-3'])
    expect(status.hosts).toHaveLength(4)
    expect(status.cluster).toMatchObject({ consistency: 'strong', replicas: 2, hostsUp: 4 })
  })

  test('troupe status prints a host table; troupe top --iterations prints one frame per refresh', async () => {
    const [status, topped] = await Promise.all([
      troupe(['status', '-p', port]),
      troupe(['top', '--iterations', '2', '--interval', '100', '-p', port]),
    ])
    expect(status.code).toBe(0)
    expect(status.stdout).toMatch(/HOST\s+STATE\s+ACTORS\s+REPLICAS\s+CALLS\/S\s+P99 MS\s+REPL LAG\s+RESTARTS\s+RING/)
    expect(status.stdout).toMatch(/host-0\s+up/)
    expect(status.stdout).not.toContain('\x1b[')
    expect(topped.code).toBe(0)
    expect(topped.stdout.match(/troupe top · every 100 ms/g)).toHaveLength(2)
    expect((await troupe(['top', '--once', '-p', port])).stdout.match(/HOST\s+STATE/g)).toHaveLength(1)
  })

  test('troupe what-if kill shows moves and the named actors, and changes nothing', async () => {
    const result = await troupe(['what-if', 'kill', 'host-1', '--actor', 'Counter/cli-a', '-p', port])
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/if host-1 died now: view epoch 1 -> 2/)
    expect(result.stdout).toMatch(/shards \(\d+\.\d%\) lose their primary and move/)
    expect(result.stdout).toContain('warm: it holds a replica')
    expect(result.stdout).toMatch(/Counter\/cli-a\s+host-\d\s+host-\d/)
    const json = JSON.parse((await troupe(['what-if', 'kill', 'host-1', '--json', '-p', port])).stdout)
    expect(json.moves.reduce((a: number, m: { shards: number }) => a + m.shards, 0)).toBe(json.primaryShards)
    const missing = await troupe(['what-if', 'kill', 'host-7', '-p', port])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toMatch(/no live host host-7/)
  })
})

describe('troupe kill', () => {
  test('kills a host: the view drops it, acknowledged state survives, status shows it', async () => {
    const acked = new Map<string, number>()
    await Promise.all(Array.from({ length: 40 }, async (_, i) => {
      acked.set(`k${i}`, (await post<number>(cluster.url, `/actors/Counter/k${i}/increment`, `[${i + 1}]`)).body)
    }))
    const victim = (await get<WhatIfKill>(cluster.url, `/what-if?kill=host-2&actor=Counter/k0`)).body.actors[0]!.from
    const killed = await troupe(['kill', victim, '-p', port])
    expect(killed.code).toBe(0)
    expect(killed.stdout).toMatch(new RegExp(`^killed ${victim}; view epoch 2: `))
    expect(killed.stdout.split('view')[1]).not.toContain(victim)
    for (const [id, value] of acked) expect((await post(cluster.url, `/actors/Counter/${id}/get`, '[]')).body).toBe(value)
    const status = JSON.parse((await troupe(['status', '--json', '-p', port])).stdout)
    expect(status.view.epoch).toBeGreaterThanOrEqual(2)
    expect(status.events.some((e: { kind: string; host?: string }) => e.kind === 'host-down' && e.host === victim)).toBe(true)
    // The supervisor may already have replaced it (a restart); either way the host is accounted for.
    const row = status.hosts.find((h: { id: string }) => h.id === victim)
    expect(row.state === 'down' || row.restarts >= 1).toBe(true)
    expect(cluster.output()).toContain(`host-down  ${victim}`)
    const unknown = await troupe(['kill', 'host-9', '-p', port])
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toMatch(/NotFound: no host host-9/)
  })

  test('troupe start hints the status command that reaches it: --url when bound elsewhere than 127.0.0.1', async () => {
    const hintOf = (output: string): string[] => /try: troupe (status --\S+ \S+)\)/.exec(output)![1]!.split(' ')
    expect(hintOf(cluster.output())).toEqual(['status', '--port', port])
    const v6 = await startCluster([examples, '--hosts', '1', '--port', '0', '--bind', '::1'])
    try {
      const hint = hintOf(v6.output())
      expect(hint).toEqual(['status', '--url', `http://[::1]:${v6.port}`])
      const status = await troupe([...hint, '--json'])
      expect(status.code, status.stderr).toBe(0)
      expect(JSON.parse(status.stdout).view.hosts).toEqual(['host-0'])
    } finally {
      expect(await v6.stop()).toBe(0)
    }
  })

  test('a second troupe start on the same port exits 1 and says why', async () => {
    const result = await troupe(['start', examples, '--port', port, '--hosts', '1'])
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/port is in use/)
  })
})
