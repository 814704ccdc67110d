/**
 * The `troupe` binary without a cluster: help, bad usage, an unreachable cluster, a lost answer, colors. The
 * long tables run the CLI's `run()` in this process (the same code the binary runs, minus a
 * Node start per case); a case of each kind also goes through bin/troupe.js.
 */
import { createServer, type Socket } from 'node:net'
import { describe, expect, test } from 'vitest'
import type { Io } from '../../runtime/cli/command.ts'
import { run } from '../../runtime/cli/run.ts'
import { freePort, troupe } from './helpers.ts'

const commands = ['start', 'status', 'top', 'call', 'kill', 'drain', 'scale', 'what-if', 'journal']

/** `troupe <args…>` in this process. */
async function inProcess(args: string[], env: Record<string, string | undefined> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = ''
  let stderr = ''
  const io: Io = { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) }, env }
  const code = await run(args, io)
  return { code, stdout, stderr }
}

describe('help', () => {
  test('troupe help (the binary) lists every command; no command at all is a usage error', async () => {
    const [help, none] = await Promise.all([troupe(['help']), troupe([])])
    expect(help.code).toBe(0)
    for (const name of commands) expect(help.stdout).toContain(`  ${name}`)
    expect(help.stdout).toContain('exit codes')
    expect(none.code).toBe(2)
    expect(none.stderr).toContain('usage: troupe <command>')
  })

  test('troupe call --help (the binary)', async () => {
    const result = await troupe(['call', '--help'])
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('usage: troupe call <Type/id> <method> [json-args…]')
    expect(result.stdout).toContain('--idempotency-key')
  })

  test.each(commands)('troupe %s --help, -h and troupe help %s say the same', async (name) => {
    const result = await inProcess([name, '--help'])
    expect(result.code).toBe(0)
    expect(result.stdout).toContain(`usage: troupe ${name}`)
    expect(result.stdout).toMatch(/-h, --help/)
    expect((await inProcess([name, '-h'])).stdout).toBe(result.stdout)
    expect((await inProcess(['help', name])).stdout).toBe(result.stdout)
  })
})

describe('bad usage exits 2 with a clear message', () => {
  test('through the binary: an unknown flag', async () => {
    const result = await troupe(['status', '--bogus'])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain("Unknown option '--bogus'")
    expect(result.stderr).toContain('run "troupe status --help" for its options')
  })

  test.each([
    [['frobnicate'], /no command "frobnicate"/],
    [['stauts'], /did you mean "status"/],
    [['help', 'nothing'], /no command "nothing"/],
    [['status', '--bogus'], /Unknown option '--bogus'/],
    [['status', 'extra'], /status takes no arguments/],
    [['start'], /start needs <actors-module>/],
    [['start', 'x.js', '--hosts', 'four'], /--hosts must be an integer from 1 to 256, got "four"/],
    [['start', 'x.js', '--hosts', '0'], /--hosts must be an integer/],
    [['start', 'x.js', '--hosts'], /--hosts/],
    [['start', 'x.js', '--replicas', '9'], /--replicas must be an integer from 0 to 7/],
    [['start', 'x.js', '--consistency', 'eventual'], /--consistency must be one of memory, local, quorum, strong/],
    [['start', 'x.js', '--port', '70000'], /--port must be an integer from 0 to 65535/],
    [['start', 'x.js', '--body-limit', 'big'], /--body-limit must be an integer from 1 to 268435456, got "big"/],
    [['start', 'x.js', '--body-limit', '0'], /--body-limit must be an integer from 1 to/],
    [['start', 'x.js', '--body-limit=-1'], /--body-limit must be an integer from 1 to .*, got "-1"/],
    [['start', 'x.js', '--body-limit', '1.5'], /--body-limit must be an integer from 1 to/],
    [['start', 'x.js', '--body-limit', '1e6'], /--body-limit must be an integer from 1 to .*, got "1e6"/],
    [['start', 'x.js', '--body-limit', '99999999999'], /--body-limit must be an integer from 1 to 268435456, got "99999999999"/],
    [['start', 'x.js', '--body-limit'], /--body-limit/],
    [['start', 'x.js', '--call-timeout', 'soon'], /--call-timeout must be an integer from 1 to 2147483647, got "soon"/],
    [['start', 'x.js', '--call-timeout', '0'], /--call-timeout must be an integer from 1 to/],
    [['start', 'x.js', '--call-timeout=-5'], /--call-timeout must be an integer from 1 to .*, got "-5"/],
    [['start', 'x.js', '--call-timeout', '2.5'], /--call-timeout must be an integer from 1 to/],
    [['start', 'x.js', '--call-timeout', 'NaN'], /--call-timeout must be an integer from 1 to/],
    [['start', 'x.js', '--call-timeout', '2147483648'], /--call-timeout must be an integer from 1 to 2147483647, got "2147483648"/],
    [['start', 'x.js', '--bind', ''], /--bind must be an IP address or a host name .*, got ""/],
    [['start', 'x.js', '--bind', '999.1.1.1'], /--bind must be an IP address or a host name .*, got "999.1.1.1"/],
    [['start', 'x.js', '--bind', 'not an address'], /--bind must be an IP address or a host name/],
    [['start', 'x.js', '--bind', 'host_name'], /--bind must be an IP address or a host name/],
    [['start', 'x.js', '--bind', '[localhost]'], /--bind must be an IP address or a host name/],
    [['start', 'x.js', '--bind', '127.0.0.1:7070'], /--bind must be an IP address or a host name/],
    [['start', 'x.js', '--bind'], /--bind/],
    [['start', 'x.js', '--data', ''], /--data needs a directory, got ""/],
    [['call', 'Counter'], /call needs/],
    [['call', 'Counter', 'get'], /an actor is named Type\/id/],
    [['call', 'Counter/a', 'increment', 'five'], /argument 1 is not JSON: five \(a string\? quote it/],
    [['call', 'Counter/a', 'increment', '{by: 1}'], /argument 1 is not JSON/],
    [['call', 'Counter/a', 'increment', '--timeout', '-3'], /--timeout/],
    [['call', 'Counter/a', 'increment', '--timeout', '2147483647'], /--timeout must be an integer from 1 to 86400000/],
    [['call', 'Counter/a', 'increment', '-k', 'ключ'], /-k\/--idempotency-key may hold only Latin-1 characters \(up to U\+00FF\)/],
    [['call', 'Counter/a', 'increment', '-k', 'über-€'], /-k\/--idempotency-key may hold only Latin-1 characters/],
    [['call', 'Counter/a', 'increment', '-k', 'a\nb'], /-k\/--idempotency-key may hold only well-formed, printable characters/],
    [['call', 'Counter/a', 'increment', '-k', 'a\x85b'], /-k\/--idempotency-key may hold only well-formed, printable characters/],
    [['call', 'Counter/a', 'increment', '-k', ' padded'], /-k\/--idempotency-key may not start or end with a space/],
    [['call', 'Counter/a', 'increment', '--idempotency-key=tab\t'], /may not start or end with a space|printable/],
    [['call', 'Counter/a', 'increment', '-k', '~timer:1'], /-k\/--idempotency-key may not start with "~"/],
    [['call', 'Counter/a', 'increment', '-k', ''], /-k\/--idempotency-key must be a string of 1 to 256 characters, got ""/],
    [['call', 'Counter/a', 'increment', '-k', 'k'.repeat(257)], /must be a string of 1 to 256 characters/],
    [['kill'], /kill needs <host>/],
    [['scale', 'many'], /the host count must be an integer/],
    [['what-if', 'restart', 'host-1'], /what-if knows one scenario, "kill <host>"/],
    [['what-if', 'kill'], /what-if needs kill <host>/],
    [['what-if', 'kill', 'host-1', '--actor', 'nope'], /Type\/id/],
    [['journal', 'Counter/'], /Type\/id/],
    [['top', '--interval', 'fast'], /--interval must be an integer/],
    [['top', '--iterations', '0'], /--iterations must be an integer/],
    [['status', '--url', 'ftp://x'], /--url must be an http\(s\) URL/],
    [['top', '--interval', '2147483648'], /--interval must be an integer from 50 to 2147483647, got "2147483648"/],
    [['top', '--interval', '3000000000', '--once'], /--interval must be an integer from 50 to 2147483647/],
    [['call', 'Counter/a', 'get', '--url', 'http://127.0.0.1:7070/?x=1'], /--url may not hold a query or a fragment \(the command adds its own path\), got "http:\/\/127\.0\.0\.1:7070\/\?x=1"/],
    [['status', '--url', 'http://127.0.0.1:7070/#top'], /--url may not hold a query or a fragment/],
    [['status', '--url', 'http://127.0.0.1:7070?'], /--url may not hold a query or a fragment/],
    [['status', '--url', 'http://127.0.0.1:7070/base#'], /--url may not hold a query or a fragment/],
    [['status', '--url', 'http://me:secret@127.0.0.1:7070/'], /--url may not hold a user name or password/],
    [['status', '--port', 'x'], /--port must be an integer from 1 to 65535/],
  ])('troupe %j', async (args, message) => {
    const result = await inProcess(args)
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(message)
    expect(result.stderr).toMatch(/run "troupe (\S+ --help|help)"/)
    expect(result.stdout).toBe('')
  })

  test('start --bind: a host name passes the check, an address not on this machine fails to listen (exit 1)', async () => {
    const port = String(await freePort())
    // The gateway listens first, so getting as far as the missing module means --bind was taken.
    const named = await inProcess(['start', 'no/such/module.js', '--bind', 'localhost', '--port', port, '--hosts', '1'])
    expect(named.code).toBe(2)
    expect(named.stderr).toMatch(/cannot start the cluster: InvalidArgument: options.actors: no module at/)
    const bracketed = await inProcess(['start', 'no/such/module.js', '--bind', '[::1]', '--port', port, '--hosts', '1'])
    expect(bracketed.stderr).not.toMatch(/--bind must be/)
    // 192.0.2.1 is TEST-NET-1: never a local address.
    const elsewhere = await inProcess(['start', 'no/such/module.js', '--bind', '192.0.2.1', '--port', port, '--hosts', '1'])
    expect(elsewhere.code).toBe(1)
    expect(elsewhere.stderr).toMatch(/cannot listen on 192\.0\.2\.1:\d+: listen EADDRNOTAVAIL/)
  })

  test('start with a module that does not exist exits 2 (the binary)', async () => {
    const port = await freePort()
    const result = await troupe(['start', 'no/such/module.js', '--port', String(port), '--hosts', '1'])
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/cannot start the cluster: InvalidArgument: options.actors: no module at/)
  })
})

describe('an unreachable cluster exits 3', () => {
  test('through the binary, by --port and by --url', async () => {
    const port = await freePort()
    const [byPort, byUrl] = await Promise.all([
      troupe(['call', 'Counter/a', 'get', '--port', String(port)]),
      troupe(['status', '--url', `http://127.0.0.1:${port}/`]),
    ])
    for (const result of [byPort, byUrl]) {
      expect(result.code).toBe(3)
      expect(result.stderr).toContain(`cannot reach a troupe cluster at http://127.0.0.1:${port} (ECONNREFUSED)`)
      expect(result.stderr).toContain('is `troupe start` running there?')
    }
  })

  test.each([
    ['status'], ['top', '--once'], ['call', 'Counter/a', 'get'], ['kill', 'host-0'], ['drain', 'host-0'],
    ['scale', '2'], ['what-if', 'kill', 'host-0'], ['journal', 'Counter/a'],
  ])('troupe %s …', async (...args) => {
    const port = await freePort()
    const result = await inProcess([...args, '--port', String(port)])
    expect(result.code).toBe(3)
    expect(result.stderr).toContain(`cannot reach a troupe cluster at http://127.0.0.1:${port} (ECONNREFUSED)`)
  })

  test('NO_COLOR turns colors off, FORCE_COLOR on (the binary)', async () => {
    const port = String(await freePort())
    const [forced, both, plain] = await Promise.all([
      troupe(['status', '-p', port], { FORCE_COLOR: '1' }),
      troupe(['status', '-p', port], { FORCE_COLOR: '1', NO_COLOR: '1' }),
      troupe(['status', '-p', port]),
    ])
    expect(forced.stderr).toContain('\x1b[31m')
    expect(both.stderr).not.toContain('\x1b[')
    expect(plain.stderr).not.toContain('\x1b[')
  })
})

describe('an answer lost after the request went out exits 1: the outcome is unknown', () => {
  /** A fake gateway that does `answer` with each request's socket once the request arrived. */
  async function fakeGateway(answer: (socket: Socket) => void): Promise<{ port: string; close(): Promise<void> }> {
    const sockets = new Set<Socket>()
    const server = createServer((socket) => {
      sockets.add(socket)
      socket.on('error', () => undefined)
      socket.once('data', () => answer(socket))
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return {
      port: String((server.address() as { port: number }).port),
      close: () => new Promise((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
    }
  }

  test.each([
    ['the body is cut off', (s: Socket) => { s.end('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"bal', () => s.destroy()) }, /the answer was cut off after 5 bytes of its body/, {}],
    ['the connection drops', (s: Socket) => s.destroy(), /ECONNRESET|socket hang up/, {}],
    ['no answer comes in time', () => undefined, /no answer within 300 ms/, { TROUPE_CLIENT_TIMEOUT_MS: '300' }],
  ])('%s (the binary)', async (_name, answer, reason, env) => {
    const fake = await fakeGateway(answer)
    try {
      const [call, keyed, status, kill] = await Promise.all([
        troupe(['call', 'Account/a', 'withdraw', '10', '-p', fake.port], env),
        troupe(['call', 'Account/a', 'withdraw', '10', '-k', 'w-1', '-p', fake.port], env),
        troupe(['status', '-p', fake.port], env),
        troupe(['kill', 'host-1', '-p', fake.port], env),
      ])
      for (const result of [call, keyed, status, kill]) {
        expect(result.code, result.stderr).toBe(1)
        expect(result.stdout).toBe('')
        expect(result.stderr).toMatch(reason)
        expect(result.stderr).not.toMatch(/cannot reach|unexpected failure/)
      }
      expect(call.stderr).toContain(`troupe: outcome unknown: the request reached the troupe cluster at http://127.0.0.1:${fake.port} but no complete answer came back`)
      expect(call.stderr).toContain('a call made with -k <key> can be repeated with the same key to learn its result')
      expect(keyed.stderr).toContain('repeat the call with the same -k "w-1" to learn its result: it runs at most once')
      expect(status.stderr).toContain(`troupe: no complete answer from the troupe cluster at http://127.0.0.1:${fake.port}`)
      expect(kill.stderr).toContain('look with `troupe status`')
    } finally {
      await fake.close()
    }
  })

  test('a 200 with an empty body is not a result', async () => {
    const fake = await fakeGateway((s) => s.end('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n'))
    try {
      const result = await inProcess(['call', 'Counter/a', 'get', '-p', fake.port])
      expect(result.code).toBe(1)
      expect(result.stdout).toBe('')
      expect(result.stderr).toMatch(/BadResponse: POST http:\/\/127\.0\.0\.1:\d+\/actors\/Counter\/a\/get answered 200 with an empty body/)
    } finally {
      await fake.close()
    }
  })
})
