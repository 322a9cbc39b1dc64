/**
 * Read-your-writes with read replicas (`DATABASE_REPLICA_URLS`): a mutation's response carries, in this
 * header, the primary's WAL position after the mutation committed; the typed client remembers the latest
 * position it has seen and sends it with every request; a query then reads on a replica only if that replica
 * has replayed that far, and on the primary otherwise. Shared by the client and the server, so it imports
 * nothing.
 */
export const WAL_POSITION_HEADER = 'x-huddle-lsn';

/** A WAL position (an LSN) as PostgreSQL prints it: two hexadecimal 32-bit halves, `16/B374D848`. */
const WAL_POSITION = /^([0-9A-F]{1,8})\/([0-9A-F]{1,8})$/i;

/** `text` as a comparable number when it is a WAL position, else undefined. */
export function walPositionValue(text: string): bigint | undefined {
  const match = WAL_POSITION.exec(text);
  return match ? (BigInt(`0x${match[1]}`) << 32n) | BigInt(`0x${match[2]}`) : undefined;
}

/** The later of two WAL positions; `current` may be unset, both are well-formed. */
export function laterWalPosition(current: string | undefined, next: string): string {
  return current === undefined || walPositionValue(next)! > walPositionValue(current)! ? next : current;
}

/**
 * The latest WAL position a client has seen in a response: its queries must read at least that far. Each
 * client keeps its own unless given one to share (`createHuddleClient(url, tokens, { readPosition })`): a
 * client created with the token another client's sign-in returned shares that client's, so it reads what the
 * sign-in wrote.
 */
export class ReadPosition {
  #latest: string | undefined;

  get latest(): string | undefined {
    return this.#latest;
  }

  /** Records the position a response carried (the header's value); anything that is not one is ignored. */
  saw(position: string | null): void {
    if (position !== null && walPositionValue(position) !== undefined) {
      this.#latest = laterWalPosition(this.#latest, position);
    }
  }
}
