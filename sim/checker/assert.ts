/** Thrown when the checker is misused (a programmer error), never caught to carry on. */
export class CheckerAssertionError extends Error {
  override name = 'CheckerAssertionError'
}

/** Fails loudly when a precondition of the checker does not hold. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new CheckerAssertionError(message)
}
