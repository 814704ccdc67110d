/** Thrown when an invariant of the runtime breaks: a programmer error, never caught to carry on. */
export class AssertionError extends Error {
  override name = 'AssertionError'
}

/** Fails loudly when an invariant does not hold. Stays on in production. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message)
}
