/** `troupe kill`, `troupe drain` and `troupe scale`: change the cluster's hosts. */
import type { View } from '../../view.ts'
import { intPositional, remoteOptions, type CommandSpec, type Parsed } from '../args.ts'
import { exitCodes, type Command, type Io } from '../command.ts'
import { forTerminal } from '../format.ts'
import { clientFor, seg } from './remote.ts'

function viewLine(view: View): string {
  return `view epoch ${view.epoch}: ${view.hosts.join(', ') || 'no hosts'}`
}

export const kill: Command = {
  spec: {
    name: 'kill',
    args: '<host>',
    summary: 'chaos: terminate a host abruptly, as a crash would; its backups take over',
    positionals: { min: 1, max: 1 },
    options: { ...remoteOptions },
    examples: ['troupe kill host-1'],
  },
  async run(parsed: Parsed, io: Io): Promise<number> {
    const host = parsed.positionals[0]!
    const body = forTerminal(await clientFor(parsed.values, 'kill', io).post<{ killed: string; view: View }>(`/hosts/${seg(host)}/kill`))
    io.stdout.write(`killed ${body.killed}; ${viewLine(body.view)}\n`)
    return exitCodes.ok
  },
}

export const drain: Command = {
  spec: {
    name: 'drain',
    args: '<host>',
    summary: 'move every actor off a host without failing a call, then stop it',
    positionals: { min: 1, max: 1 },
    options: { ...remoteOptions },
    examples: ['troupe drain host-2'],
  },
  async run(parsed: Parsed, io: Io): Promise<number> {
    const host = parsed.positionals[0]!
    const body = forTerminal(await clientFor(parsed.values, 'drain', io).post<{ drained: string; ms: number; view: View }>(`/hosts/${seg(host)}/drain`))
    io.stdout.write(`drained ${body.drained} in ${body.ms} ms; ${viewLine(body.view)}\n`)
    return exitCodes.ok
  },
}

export const scale: Command = {
  spec: {
    name: 'scale',
    args: '<n>',
    summary: 'grow or shrink the cluster to n hosts (shrinking drains the hosts it removes)',
    positionals: { min: 1, max: 1 },
    options: { ...remoteOptions },
    examples: ['troupe scale 6'],
  },
  async run(parsed: Parsed, io: Io): Promise<number> {
    const n = intPositional(parsed.positionals[0]!, 'the host count', 'scale', { min: 1, max: 256 })
    const body = forTerminal(await clientFor(parsed.values, 'scale', io).post<{ before: View; view: View; ms: number }>('/scale', { hosts: n }))
    io.stdout.write(`scaled ${body.before.hosts.length} -> ${body.view.hosts.length} hosts in ${body.ms} ms; ${viewLine(body.view)}\n`)
    return exitCodes.ok
  },
}
