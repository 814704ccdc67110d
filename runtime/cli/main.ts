/**
 * The `troupe` command. `troupe start <actors-module> [--hosts N]` starts a cluster on worker
 * threads and serves it until SIGINT/SIGTERM, then stops gracefully.
 */
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { Cluster } from '../node/cluster.ts'
import { isTroupeError } from '../errors.ts'

const usage = `usage: troupe <command> [options]

commands:
  start <actors-module>   start a cluster serving the actors the module exports
    --hosts <n>           host worker threads (default: available parallelism)
  help                    show this help
`

/** Exit codes: 0 ok, 1 runtime failure, 2 bad usage. */
async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(usage)
    return command === undefined ? 2 : 0
  }
  if (command !== 'start') return fail(`unknown command "${command}"`)
  let parsed
  try {
    parsed = parseArgs({ args: rest, allowPositionals: true, strict: true, options: { hosts: { type: 'string' }, help: { type: 'boolean', short: 'h' } } })
  } catch (error) {
    return fail((error as Error).message)
  }
  if (parsed.values.help) {
    process.stdout.write(usage)
    return 0
  }
  const [modulePath, ...extra] = parsed.positionals
  if (!modulePath || extra.length > 0) return fail('start needs exactly one actors module')
  const hosts = parsed.values.hosts === undefined ? undefined : Number(parsed.values.hosts)
  if (hosts !== undefined && !Number.isInteger(hosts)) return fail(`--hosts must be an integer, got "${parsed.values.hosts}"`)
  let cluster: Cluster
  try {
    cluster = await Cluster.start(hosts === undefined ? { actors: resolve(modulePath) } : { actors: resolve(modulePath), hosts })
  } catch (error) {
    process.stderr.write(`troupe: ${isTroupeError(error) ? `${error.kind}: ` : ''}${(error as Error).message}\n`)
    return isTroupeError(error, 'InvalidArgument') ? 2 : 1
  }
  process.stdout.write(`troupe: serving ${modulePath} on ${cluster.view.hosts.length} hosts (epoch ${cluster.view.epoch})\n`)
  await new Promise<void>((done) => {
    const stop = (): void => done()
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  })
  await cluster.stop()
  process.stdout.write('troupe: stopped\n')
  return 0
}

function fail(message: string): number {
  process.stderr.write(`troupe: ${message}\n${usage}`)
  return 2
}

process.exitCode = await main(process.argv.slice(2))
