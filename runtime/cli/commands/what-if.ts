/** `troupe what-if kill <host>`: which actors would move where, computed from the view. */
import type { WhatIfKill } from '../../gateway/what-if.ts'
import { actorKeyArg, intOption, remoteOptions, UsageError, type CommandSpec, type Parsed } from '../args.ts'
import { exitCodes, outStyle, type Command, type Io } from '../command.ts'
import { jsonOutput, renderWhatIf } from '../format.ts'
import { clientFor } from './remote.ts'

const spec: CommandSpec = {
  name: 'what-if',
  args: 'kill <host>',
  summary: 'show which shards and actors would move where if a host died now, and their replication state',
  positionals: { min: 2, max: 2 },
  options: {
    ...remoteOptions,
    actor: { type: 'string', short: 'a', value: '<Type/id>', multiple: true, description: 'report this actor (repeatable); actors called through the gateway are listed too' },
    replicas: { type: 'string', value: '<n>', description: 'assume this many backups per actor (default: the cluster\'s)' },
    json: { type: 'boolean', description: 'print the JSON answer' },
  },
  details: 'Nothing is changed: placement is a pure function of the view, so the answer is the placement\nthe cluster would publish without the host.',
  examples: ['troupe what-if kill host-1', 'troupe what-if kill host-1 --actor Counter/alice --actor Account/acct-3'],
}

export const whatIf: Command = {
  spec,
  async run(parsed: Parsed, io: Io): Promise<number> {
    const [scenario, host] = parsed.positionals as [string, string]
    if (scenario !== 'kill') throw new UsageError(`what-if knows one scenario, "kill <host>"; got ${JSON.stringify(scenario)}`, 'what-if')
    const query = new URLSearchParams({ kill: host })
    const actors = parsed.values['actor']
    for (const key of Array.isArray(actors) ? actors : []) {
      actorKeyArg(key, 'what-if')
      query.append('actor', key)
    }
    const replicas = intOption(parsed.values, 'replicas', 'what-if', { min: 0, max: 7 })
    if (replicas !== undefined) query.set('replicas', String(replicas))
    const body = await clientFor(parsed.values, 'what-if', io).get<WhatIfKill>(`/what-if?${query}`)
    io.stdout.write(parsed.values['json'] ? jsonOutput(body) : renderWhatIf(body, outStyle(io)))
    return exitCodes.ok
  },
}
