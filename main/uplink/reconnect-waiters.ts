interface Waiter {
  afterAttempt: number;
  resolve: () => void;
  reject: (error: Error) => void;
}

/** Callers of `reconnect()`, each waiting for the outcome of the first connect attempt started after its call. */
export class ReconnectWaiters {
  private readonly waiters: Waiter[] = [];

  /** Resolves when an attempt numbered above `afterAttempt` connects; rejects when it fails. */
  wait(afterAttempt: number): Promise<void> {
    return new Promise((resolve, reject) => this.waiters.push({ afterAttempt, resolve, reject }));
  }

  /** Settles everyone waiting for `attempt`: resolved when `error` is undefined, else rejected with it. */
  settle(attempt: number, error?: Error): void {
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const waiter = this.waiters[i] as Waiter;
      if (waiter.afterAttempt >= attempt) continue;
      this.waiters.splice(i, 1);
      if (error) waiter.reject(error);
      else waiter.resolve();
    }
  }

  rejectAll(error: Error): void {
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
  }
}
