/** The example actors: used by the README, the demo, tests and benchmarks. */
export { Counter } from './counter.ts'
export { Account } from './account.ts'
export { ChatRoom, type ChatMessage } from './chat-room.ts'
