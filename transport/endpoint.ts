/**
 * The one thing a port-based transport needs from a platform: post a message, receive
 * messages, close. Each platform (worker_threads, Web/Deno workers, tabs) adapts its
 * MessagePort to this in a few lines.
 */
export interface Endpoint {
  postMessage(message: unknown): void
  listen(handler: (data: unknown) => void): void
  close(): void
  /**
   * Takes the next message now, without waiting for the event loop (undefined when none is
   * queued). Only platforms that can: Node's `receiveMessageOnPort`. Used to spin for a reply.
   */
  receiveNow?(): { message: unknown } | undefined
}

/** Minimal shape of a Web-standard MessagePort, so the core needs no DOM types. */
export interface WebMessagePort {
  postMessage(message: unknown): void
  onmessage: ((event: { data: unknown }) => void) | null
  close(): void
  start?(): void
}

/** Adapts a Web-standard MessagePort (browsers, Deno, Node's global MessageChannel). */
export function webEndpoint(port: WebMessagePort): Endpoint {
  return {
    postMessage: (message) => port.postMessage(message),
    listen(handler) {
      port.onmessage = (event) => handler(event.data)
      port.start?.()
    },
    close: () => port.close(),
  }
}
