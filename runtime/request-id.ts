/**
 * Request ids: callers choose theirs (an idempotency key), and the runtime makes the rest. The
 * two must never meet: a caller's id that equals a call the runtime derived would be answered as
 * that call's retry (a lost write), and one that looks like the runtime's own turn ids (`~…`) is
 * treated as one. So derived ids join a turn's id and a call's position with a control
 * character, which no caller's id may hold, and `~` starts the runtime's ids only.
 */

/** Between a turn's request id and the position of a call it makes. */
const derivedSeparator = '\u001f'

/**
 * The id a turn's calls derive from: the actor's key (its length first, so no key and request id
 * can run into another pair's) and the turn's request id.
 */
export function turnIdOf(key: string, requestId: string): string {
  return `${key.length}:${key}${derivedSeparator}${requestId}`
}

/** True for an id the runtime derived for a turn's call (no caller's id holds the separator). */
export function isDerived(requestId: string): boolean {
  return requestId.includes(derivedSeparator)
}

/** The request id of the `position`-th call the turn `turnId` makes: the same each time the turn runs. */
export function derivedRequestId(turnId: string, position: number): string {
  return `${turnId}${derivedSeparator}${position}`
}

/** Longest request id a caller may choose. */
export const requestIdLengthMax = 256

/** Why a caller's request id is refused (a sentence for InvalidArgument), or undefined when it may be used. */
export function requestIdProblem(id: unknown): string | undefined {
  if (typeof id !== 'string' || id.length === 0 || id.length > requestIdLengthMax) return `must be a string of 1 to ${requestIdLengthMax} characters`
  if (id.startsWith('~')) return 'may not start with "~" (the runtime\'s own ids do)'
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]|\p{Cs}/u.test(id)) return 'may hold only well-formed, printable characters (no C0 or C1 control characters, no DEL)'
  return undefined
}
