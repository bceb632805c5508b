/**
 * A second, read-only SQLite connection on a thread of its own, for the list queries that cost most: node:sqlite
 * runs a statement to its end on the thread that calls it, so a costly list run on the event loop would hold every
 * other request (and /ping) until it ends. WAL lets this reader see every committed write while the main
 * connection writes. Its statements check the list deadline on every row (the `scim_deadline()` guard), and a
 * reader that does not answer a second past the deadline is terminated and replaced.
 */
import { Worker } from 'node:worker_threads';
import { FOLD_BUDGET_CHARS, deadlineError } from './list-deadline';

/** The reader thread's whole program: it needs nothing but node:sqlite (the bundle is one file). */
const READER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { DatabaseSync } = require('node:sqlite');
const db = new DatabaseSync(workerData.path, { readOnly: true });
db.exec('PRAGMA busy_timeout = 5000');
let until = Infinity;
let folded = 0;
db.function('scim_lower', { deterministic: true }, (v) => {
  if (typeof v !== 'string') return v;
  folded += v.length;
  if (folded > workerData.foldBudget) throw Object.assign(new Error('the list folded too much text'), { deadlinePassed: true });
  return v.toLowerCase();
});
db.function('scim_deadline', { deterministic: false }, () => {
  if (Date.now() > until) throw Object.assign(new Error('the list deadline passed'), { deadlinePassed: true });
  return 1;
});
const statements = new Map();
parentPort.on('message', ({ id, sql, params, queueUntil, budgetMs }) => {
  const started = Date.now();
  if (started > queueUntil) return parentPort.postMessage({ id, error: { queued: true } });
  until = started + budgetMs;
  folded = 0;
  try {
    let statement = statements.get(sql);
    if (!statement) {
      statement = db.prepare(sql);
      statement.setReturnArrays(true);
      if (statements.size < 200) statements.set(sql, statement);
    }
    const rows = statement.all(...params);
    parentPort.postMessage({ id, rows, ms: Date.now() - started });
  } catch (e) {
    parentPort.postMessage({ id, ms: Date.now() - started, error: { deadlinePassed: e && e.deadlinePassed === true, message: String(e && e.message), code: e && e.code, errcode: e && e.errcode } });
  } finally {
    until = Infinity;
  }
});
`;

/** The reader's queue was too long for the request's deadline: the reader is busy, not the query too costly. */
export class ReaderBusy extends Error {}

interface Pending {
  readonly resolve: (answer: ReaderRows) => void;
  readonly reject: (error: unknown) => void;
}

/** A statement's rows and how long it ran on the reader. */
export interface ReaderRows {
  readonly rows: unknown[][];
  readonly ms: number;
}

interface Answer {
  readonly id: number;
  readonly ms?: number;
  readonly rows?: unknown[][];
  readonly error?: { queued?: boolean; deadlinePassed?: boolean; message?: string; code?: string; errcode?: number };
}

/** How long past a deadline the reader may stay silent before it is terminated (its statement checks every row). */
const GRACE_MS = 1_000;

export class SqliteReader {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private closed = false;

  constructor(private readonly path: string) {}

  private start(): Worker {
    // No resourceLimits: a worker past its heap limit inside node:sqlite aborts the whole process (measured). Its
    // memory is bounded by FOLD_BUDGET_CHARS instead.
    const worker = new Worker(READER_SOURCE, { eval: true, workerData: { path: this.path, foldBudget: FOLD_BUDGET_CHARS } });
    worker.unref();
    worker.on('message', (answer: Answer) => this.settle(answer));
    const fail = (error: unknown) => {
      if (this.worker === worker) this.worker = undefined;
      for (const [, p] of this.pending) p.reject(error);
      this.pending.clear();
    };
    // Out of its heap, or any other failure of the thread: the lists it held are retried by their clients (503).
    worker.on('error', (error) => fail(new ReaderBusy('the reader thread failed', { cause: error })));
    worker.on('exit', () => fail(new ReaderBusy('the reader thread stopped')));
    return worker;
  }

  private settle(answer: Answer): void {
    const waiting = this.pending.get(answer.id);
    if (!waiting) return;
    this.pending.delete(answer.id);
    if (answer.rows) {
      waiting.resolve({ rows: answer.rows, ms: answer.ms ?? 0 });
      return;
    }
    const error = answer.error ?? {};
    if (error.queued) waiting.reject(new ReaderBusy('the reader thread is busy'));
    else if (error.deadlinePassed) waiting.reject(deadlineError());
    else {
      // An SQLite error as node:sqlite raises it, so the store translates it alike (busy, unreadable file, …).
      waiting.reject(Object.assign(new Error(error.message), { code: error.code, errcode: error.errcode }));
    }
  }

  /**
   * Runs one read-only statement (placeholders `?n`) on the reader thread for at most `budgetMs` once it starts;
   * ReaderBusy if it could not start by `queueUntil` (epoch ms).
   */
  rows(sql: string, params: readonly unknown[], queueUntil: number, budgetMs: number): Promise<ReaderRows> {
    if (this.closed) return Promise.reject(new ReaderBusy('the store is closed'));
    const worker = (this.worker ??= this.start());
    const id = ++this.nextId;
    return new Promise<ReaderRows>((resolve, reject) => {
      const timer = setTimeout(
        () => {
          // The statement stopped checking its deadline (it cannot, between rows): replace the thread.
          if (!this.pending.has(id)) return;
          this.pending.delete(id);
          reject(deadlineError());
          if (this.worker === worker) this.worker = undefined;
          void worker.terminate();
        },
        Math.max(0, queueUntil - Date.now()) + budgetMs + GRACE_MS,
      );
      timer.unref();
      this.pending.set(id, {
        resolve: (rows) => {
          clearTimeout(timer);
          resolve(rows);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      worker.postMessage({ id, sql, params, queueUntil, budgetMs });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = undefined;
    if (worker) await worker.terminate();
  }
}
