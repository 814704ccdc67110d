/** `troupe call Type/id method [json-args…]`. */
import { idempotencyKeyProblem } from '../../gateway/server.ts'
import { actorKeyArg, intOption, remoteOptions, UsageError, type CommandSpec, type Parsed } from '../args.ts'
import { exitCodes, type Command, type Io } from '../command.ts'
import { jsonOutput } from '../format.ts'
import { clientFor, seg } from './remote.ts'

const spec: CommandSpec = {
  name: 'call',
  args: '<Type/id> <method> [json-args…]',
  summary: 'call a method on an actor through the gateway and print the JSON result',
  positionals: { min: 2, max: Number.POSITIVE_INFINITY },
  options: {
    ...remoteOptions,
    'idempotency-key': { type: 'string', short: 'k', value: '<key>', description: 'request id: repeating the call with the same key returns the first result' },
    timeout: { type: 'string', value: '<ms>', description: 'fail with CallTimeout after this long (default: the cluster\'s)' },
  },
  details: 'Each argument is one JSON value: numbers and true/false/null as they are, strings in double\nquotes (quote them for your shell too). Put arguments starting with "-" after "--".',
  examples: [
    'troupe call Counter/alice increment 5',
    'troupe call Account/acct-1 transfer \'"acct-2"\' 10 -k transfer-42',
    'troupe call Counter/alice increment -- -1',
  ],
}

export const call: Command = {
  spec,
  async run(parsed: Parsed, io: Io): Promise<number> {
    const [target, method, ...rawArgs] = parsed.positionals as [string, string, ...string[]]
    const { type, id } = actorKeyArg(target, 'call')
    const args = rawArgs.map((raw, i) => {
      try {
        return JSON.parse(raw) as unknown
      } catch {
        throw new UsageError(`argument ${i + 1} is not JSON: ${raw}${/^[\w.:@-]+$/.test(raw) ? ` (a string? quote it: '"${raw}"')` : ''}`, 'call')
      }
    })
    // A day at most: the client waits 10 s past it, and a timer holds 2^31 - 1 ms.
    const timeoutMs = intOption(parsed.values, 'timeout', 'call', { min: 1, max: 86_400_000 })
    const headers: Record<string, string> = {}
    const key = parsed.values['idempotency-key']
    if (typeof key === 'string') {
      // The gateway's rules, checked before sending: a key a header cannot carry never arrives.
      const problem = idempotencyKeyProblem(key)
      if (problem !== undefined) throw new UsageError(`-k/--idempotency-key ${problem}, got ${JSON.stringify(key)}`, 'call')
      headers['idempotency-key'] = key
    }
    if (timeoutMs !== undefined) headers['x-timeout-ms'] = String(timeoutMs)
    const client = clientFor(parsed.values, 'call', io, (timeoutMs ?? 120_000) + 10_000)
    const ifUnknown = typeof key === 'string'
      ? `repeat the call with the same -k ${JSON.stringify(key)} to learn its result: it runs at most once`
      : 'look at the actor before calling again (a call made with -k <key> can be repeated with the same key to learn its result, and runs at most once)'
    const result = await client.post<unknown>(`/actors/${seg(type)}/${seg(id)}/${seg(method)}`, args, { headers, ifUnknown })
    io.stdout.write(jsonOutput(result))
    return exitCodes.ok
  },
}
