import { Actor, readOnly } from '../actor.ts'

/**
 * A bank account. `transfer` withdraws here, then deposits into the other account by calling it.
 * A turn is atomic: if the deposit fails, the turn throws and its withdrawal is discarded with it,
 * so no money is lost; and the deposit carries a request id derived from the transfer's, so a
 * transfer retried with the same id (or re-run after a failover) never deposits twice.
 */
export class Account extends Actor<{ balance: number }> {
  initialState() {
    return { balance: 0 }
  }

  deposit(amount: number): number {
    assertAmount(amount)
    this.state.balance += amount
    return this.state.balance
  }

  withdraw(amount: number): number {
    assertAmount(amount)
    if (amount > this.state.balance) {
      // The fields reach the caller as `error.data` (and an HTTP client as the body's `data`).
      throw Object.assign(new RangeError(`insufficient funds: ${this.state.balance} < ${amount}`), { code: 'INSUFFICIENT_FUNDS', balance: this.state.balance, requested: amount })
    }
    this.state.balance -= amount
    return this.state.balance
  }

  /** Moves `amount` to account `to`; if the deposit fails, the whole transfer is undone. */
  async transfer(to: string, amount: number): Promise<number> {
    this.withdraw(amount)
    await this.actor(Account, to).deposit(amount)
    return this.state.balance
  }

  @readOnly
  balance(): number {
    return this.state.balance
  }
}

function assertAmount(amount: number): void {
  if (typeof amount !== 'number' || !Number.isFinite(amount) || amount <= 0) throw new TypeError(`amount must be a positive number, got ${String(amount)}`)
}
