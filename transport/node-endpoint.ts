import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads'
import type { Endpoint } from './endpoint.ts'

/**
 * Adapts a Node worker_threads `MessagePort` (the platform adapter for Node hosts). Listening
 * starts the port; listening again replaces the previous handler, as `webEndpoint` does.
 * Posting a value that cannot be cloned throws synchronously (a `DataCloneError`).
 */
export function nodeEndpoint(port: MessagePort): Endpoint {
  let current: ((data: unknown) => void) | undefined
  return {
    postMessage: (message) => port.postMessage(message),
    listen(handler) {
      if (current) port.off('message', current)
      current = handler
      port.on('message', handler)
    },
    close: () => port.close(),
    receiveNow: () => receiveMessageOnPort(port),
  }
}
