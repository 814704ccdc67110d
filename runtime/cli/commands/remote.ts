/** Shared by the commands that talk to a running cluster. */
import { targetUrl, type Values } from '../args.ts'
import { GatewayClient } from '../http-client.ts'

export function clientFor(values: Values, command: string, timeoutMs?: number): GatewayClient {
  return new GatewayClient(targetUrl(values, command), timeoutMs === undefined ? {} : { timeoutMs })
}

/** A path segment, percent-encoded. */
export function seg(part: string): string {
  return encodeURIComponent(part)
}
