import type { Endpoint as ComlinkEndpoint } from 'comlink'
import type { MessagePort } from 'node:worker_threads'

type Listener = EventListenerOrEventListenerObject
type Handler = (data: unknown) => void

/** Adapts a worker_threads MessagePort to comlink's Endpoint (comlink's own Node adapter, typed). */
export function comlinkEndpoint(port: MessagePort): ComlinkEndpoint {
  const handlers = new WeakMap<Listener, Handler>()
  return {
    postMessage: (message: unknown, transfer?: Transferable[]) => port.postMessage(message, transfer as never),
    addEventListener: (_type: string, listener: Listener) => {
      const handler: Handler = (data) => {
        const event = { data } as MessageEvent
        if (typeof listener === 'function') listener(event)
        else listener.handleEvent(event)
      }
      handlers.set(listener, handler)
      port.on('message', handler)
    },
    removeEventListener: (_type: string, listener: Listener) => {
      const handler = handlers.get(listener)
      if (handler) port.off('message', handler)
      handlers.delete(listener)
    },
    start: () => port.start(),
  }
}
