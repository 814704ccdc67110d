import { Actor, readOnly } from '../actor.ts'

export interface ChatMessage {
  from: string
  text: string
  seq: number
}

/** A chat room that keeps its members and the last `historyMax` messages. */
export class ChatRoom extends Actor<{ members: string[]; messages: ChatMessage[]; seq: number }> {
  static historyMax = 100

  initialState() {
    return { members: [] as string[], messages: [] as ChatMessage[], seq: 0 }
  }

  join(member: string): number {
    if (!this.state.members.includes(member)) this.state.members.push(member)
    return this.state.members.length
  }

  post(from: string, text: string): number {
    if (!this.state.members.includes(from)) throw new Error(`${from} has not joined ${this.id}`)
    const seq = ++this.state.seq
    this.state.messages.push({ from, text, seq })
    if (this.state.messages.length > ChatRoom.historyMax) this.state.messages.shift()
    return seq
  }

  @readOnly
  history(afterSeq = 0): ChatMessage[] {
    return this.state.messages.filter((m) => m.seq > afterSeq)
  }
}
