/**
 * Long-poll waiting for the pull API: a bounded number of waiters, woken together when this process commits changes
 * (other replicas' commits are found by polling). A waiter holds no store connection, only a promise.
 */

export class ChangeWaiters {
  private waiting = 0;
  private closed = false;
  private wake!: () => void;
  private signal!: Promise<void>;

  constructor(
    /** Long-polls waiting at once; beyond it a poll that finds nothing is refused (429) instead of waiting. */
    readonly max: number,
  ) {
    this.renew();
  }

  private renew(): void {
    this.signal = new Promise((resolve) => {
      this.wake = resolve;
    });
  }

  /** How many long-polls are waiting now. */
  get count(): number {
    return this.waiting;
  }

  /**
   * Resolves at the next commit (or close). Take it before reading the log: a commit between the read and the wait
   * then still wakes the waiter.
   */
  next(): Promise<void> {
    return this.signal;
  }

  /** Changes committed in this process: every waiter looks again. */
  notify(): void {
    const wake = this.wake;
    this.renew();
    wake();
  }

  /** Takes a waiting slot; false when all are taken or the bridge is closing. */
  enter(): boolean {
    if (this.closed || this.waiting >= this.max) return false;
    this.waiting++;
    return true;
  }

  leave(): void {
    this.waiting--;
  }

  get closing(): boolean {
    return this.closed;
  }

  /** The bridge shuts down: every waiter answers now with what it has, and no new one waits. */
  close(): void {
    this.closed = true;
    this.wake();
  }
}
