import { TroupeError } from '../errors.ts'

/**
 * When a call's result may be released (the output gate):
 * - `memory`: at once; state is neither journaled nor replicated (lost with its host).
 * - `local`: once the primary's journal holds the turn's record durably.
 * - `quorum`: once a majority of the owners (primary + backups) hold it.
 * - `strong`: once the primary and every backup of the view hold it.
 */
export type Consistency = 'memory' | 'local' | 'quorum' | 'strong'

export const consistencyLevels: readonly Consistency[] = ['memory', 'local', 'quorum', 'strong']

/** What a record needs before the replies behind it may go out. */
export interface AckRule {
  /** The primary's own journal must hold the record durably. */
  local: boolean
  /** How many backups must acknowledge it. */
  backups: number
}

/** The acknowledgements `level` needs with `backupCount` backups in the view. */
export function ackRule(level: Consistency, backupCount: number): AckRule {
  switch (level) {
    case 'memory': return { local: false, backups: 0 }
    case 'local': return { local: true, backups: 0 }
    case 'quorum': return { local: true, backups: Math.floor((backupCount + 1) / 2) }
    case 'strong': return { local: true, backups: backupCount }
  }
}

/** Validates a consistency level from user input, or throws `InvalidArgument`. */
export function parseConsistency(value: unknown, where: string): Consistency {
  if (typeof value === 'string' && (consistencyLevels as readonly string[]).includes(value)) return value as Consistency
  throw new TroupeError('InvalidArgument', `${where} must be one of ${consistencyLevels.join(', ')}, got ${typeof value === 'string' ? JSON.stringify(value) : typeof value}`)
}
