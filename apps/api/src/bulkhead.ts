import { type DatabaseTarget, DatabaseUnavailableError } from '@huddle/db';

/** A request waited for its share of the database connections longer than the bulkhead lets it. */
export class BulkheadFullError extends DatabaseUnavailableError {}

interface Compartment {
  active: number;
  waiting: (() => void)[];
}

/** How many requests may wait for one compartment; more are refused at once (memory stays bounded). */
const MAX_WAITING = 200;

/**
 * A keyed concurrency limit: at most `limit` calls per key run at once, the next ones wait in order up to
 * `waitMs`, then fail with BulkheadFullError (a 503 with Retry-After). A compartment exists only while a
 * call of its key runs or waits.
 */
export class Bulkhead {
  readonly #compartments = new Map<string, Compartment>();

  readonly name: string;
  readonly limit: number;
  readonly waitMs: number;

  constructor(name: string, limit: number, waitMs: number) {
    this.name = name;
    this.limit = limit;
    this.waitMs = waitMs;
  }

  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    await this.#enter(key);
    try {
      return await work();
    } finally {
      this.#leave(key);
    }
  }

  #enter(key: string): Promise<void> {
    let compartment = this.#compartments.get(key);
    if (!compartment) {
      compartment = { active: 0, waiting: [] };
      this.#compartments.set(key, compartment);
    }
    if (compartment.active < this.limit) {
      compartment.active++;
      return Promise.resolve();
    }
    const full = () =>
      new BulkheadFullError(
        `${this.name} ${key} already has ${this.limit} requests at the database (the most one ${this.name} may hold): retry shortly`,
      );
    if (compartment.waiting.length >= MAX_WAITING) return Promise.reject(full());
    const waiting = compartment.waiting;
    return new Promise<void>((resolve, reject) => {
      const admit = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        waiting.splice(waiting.indexOf(admit), 1);
        reject(full());
      }, this.waitMs);
      waiting.push(admit);
    });
  }

  #leave(key: string): void {
    const compartment = this.#compartments.get(key)!;
    const next = compartment.waiting.shift();
    // The slot passes straight to the next in line, so a newcomer cannot overtake it.
    if (next) {
      next();
      return;
    }
    compartment.active--;
    if (compartment.active === 0) this.#compartments.delete(key);
  }
}

/** The request path's two bulkheads, sized from the runtime pool (bench/README.md, "bulkhead"). */
export interface Bulkheads {
  /** Per module (`poker`, `scrum`, …): no module holds more than half the pool. */
  module: Bulkhead;
  /** Per actor (a token's module and subject, or an anonymous caller's address): a quarter of the pool. */
  actor: Bulkhead;
}

/** How long a request waits for its module's or actor's share before it is refused (503). */
const BULKHEAD_WAIT_MS = 3_000;

/**
 * The bulkheads for `target`'s pool of `poolMax` connections. The embedded database runs one statement at a
 * time whatever the limits, so it gets none.
 */
export function bulkheadsFor(target: DatabaseTarget): Bulkheads | undefined {
  if (target.kind !== 'postgresql') return undefined;
  return {
    module: new Bulkhead('module', Math.max(1, Math.ceil(target.poolMax / 2)), BULKHEAD_WAIT_MS),
    actor: new Bulkhead('actor', Math.max(1, Math.floor(target.poolMax / 4)), BULKHEAD_WAIT_MS),
  };
}

/** Runs `work` inside the actor's compartment, then the module's: a stalled actor waits in its own queue. */
export function withinBulkheads<T>(
  bulkheads: Bulkheads | undefined,
  module: string,
  actor: string,
  work: () => Promise<T>,
): Promise<T> {
  if (!bulkheads) return work();
  return bulkheads.actor.run(actor, () => bulkheads.module.run(module, work));
}
