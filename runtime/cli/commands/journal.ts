/** `troupe journal Type/id`: an actor's journal records and snapshots. */
import { actorKeyArg, remoteOptions, type CommandSpec, type Parsed } from '../args.ts'
import { exitCodes, outStyle, type Command, type Io } from '../command.ts'
import { jsonOutput, renderJournal } from '../format.ts'
import { clientFor, seg } from './remote.ts'

const spec: CommandSpec = {
  name: 'journal',
  args: '<Type/id>',
  summary: 'print an actor\'s journal records and snapshots',
  positionals: { min: 1, max: 1 },
  options: {
    ...remoteOptions,
    json: { type: 'boolean', description: 'print the JSON answer' },
  },
  examples: ['troupe journal Counter/alice'],
}

export const journal: Command = {
  spec,
  async run(parsed: Parsed, io: Io): Promise<number> {
    const { type, id } = actorKeyArg(parsed.positionals[0]!, 'journal')
    const body = await clientFor(parsed.values, 'journal', io).get<{ key: string; journal: unknown }>(`/journal/${seg(type)}/${seg(id)}`)
    io.stdout.write(parsed.values['json'] ? jsonOutput(body) : renderJournal(body.key, body.journal, outStyle(io)))
    return exitCodes.ok
  },
}
