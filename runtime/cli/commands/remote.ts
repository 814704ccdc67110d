/** Shared by the commands that talk to a running cluster. */
import { targetUrl, type Values } from '../args.ts'
import type { Io } from '../command.ts'
import { GatewayClient } from '../http-client.ts'

/**
 * The client of the gateway --url or --port names, waiting `timeoutMs` for an answer (default
 * 120 s). TROUPE_CLIENT_TIMEOUT_MS replaces that wait: it is for tests of what a wait that
 * runs out prints.
 */
export function clientFor(values: Values, command: string, io: Io, timeoutMs?: number): GatewayClient {
  const override = io.env['TROUPE_CLIENT_TIMEOUT_MS']
  const wait = override !== undefined && /^\d{1,10}$/.test(override) && Number(override) > 0 ? Math.min(Number(override), 2_147_483_647) : timeoutMs
  return new GatewayClient(targetUrl(values, command), wait === undefined ? {} : { timeoutMs: wait })
}

/**
 * A path segment, percent-encoded, sent as it is. "." and ".." are encoded too ("%2E%2E"): the
 * gateway reads them as ids either way, and nothing between may take them for dot segments.
 */
export function seg(part: string): string {
  return part === '.' || part === '..' ? part.replaceAll('.', '%2E') : encodeURIComponent(part)
}
