import { describe, expect, it } from 'vitest';
import { useReplicatedDatabase, useSqlClient, waitForReplay } from '../../testing/src/index.ts';
import { freePort } from '../../testing/src/server.ts';
import {
  ConfigurationError,
  databaseTargetFromEnv,
  type EntityManager,
  openDatabase,
  primaryWalPosition,
  type ReadOnlyRequest,
  type RequestScopeOptions,
  runAsActor,
} from '../src/index.ts';
import { NOTES_REQUEST_ROLE, type NotesActor, notesModule } from './fixtures/notes.ts';

/**
 * Read replicas: a primary and a streaming replica of it (`pg_basebackup -R`) on loopback, the notes fixture
 * (row-level security) migrated on the primary. Which server a request ran on is what the request's own
 * connection says (`pg_is_in_recovery()`); pausing the replica's replay makes it lag deterministically.
 */
const pair = useReplicatedDatabase([notesModule]);
const replica = useSqlClient({
  get url() {
    return pair.replicaUrl;
  },
});
const ann: NotesActor = { module: 'fixture_notes', userId: 1 };
const bob: NotesActor = { module: 'fixture_notes', userId: 2 };

interface Seen {
  standby: boolean;
  role: string;
  readOnly: string;
  notes: string[];
}

/** What `actor`'s request sees: where it ran, as whom, and the notes the policy lets it read. */
const look = async (actor: NotesActor, options: RequestScopeOptions = {}) => {
  const [seen] = await runAsActor(
    pair.db.orm,
    notesModule,
    actor,
    (em: EntityManager) =>
      em.execute<Seen[]>(
        `select pg_is_in_recovery() as standby, current_user as role,
                current_setting('transaction_read_only') as "readOnly",
                array(select body from fixture_notes.notes order by id) as notes`,
      ),
    options,
  );
  return seen!;
};
const write = (actor: NotesActor, body: string) =>
  runAsActor(pair.db.orm, notesModule, actor, (em) =>
    em.execute('insert into fixture_notes.notes (author_id, body) values (?, ?)', [actor.userId, body]),
  );

/** A request declared read-only that writes anyway. */
const writeReadOnly = (readOnly: ReadOnlyRequest) =>
  runAsActor(
    pair.db.orm,
    notesModule,
    ann,
    (em) => em.execute("insert into fixture_notes.notes (author_id, body) values (1, 'sneaky')"),
    { readOnly },
  );

describe('routing', () => {
  it('a read-only request runs on the replica, as its module’s request role under row-level security; a write on the primary', async () => {
    await write(ann, 'ann: first');
    await write(bob, 'bob: first');
    await waitForReplay(pair.primaryUrl, pair.replicaUrl);
    expect(await look(ann, { readOnly: {} })).toEqual({
      standby: true,
      role: NOTES_REQUEST_ROLE,
      readOnly: 'on',
      notes: ['ann: first'],
    });
    expect(await look(ann)).toEqual({
      standby: false,
      role: NOTES_REQUEST_ROLE,
      readOnly: 'off',
      notes: ['ann: first'],
    });
  });

  it('a read-only request refuses to write', async () => {
    await expect(writeReadOnly({})).rejects.toThrow(/read-only transaction/);
  });

  it('a replica that cannot be reached leaves the read to the primary', async () => {
    const unreachable = `postgres://postgres@127.0.0.1:${await freePort()}/huddle`;
    const db = await openDatabase({
      modules: [notesModule],
      target: { kind: 'postgresql', url: pair.primaryUrl, poolMax: 2, replicaUrls: [unreachable] },
    });
    try {
      const [seen] = await runAsActor(
        db.orm,
        notesModule,
        ann,
        (em) => em.execute<{ standby: boolean }[]>('select pg_is_in_recovery() as standby'),
        { readOnly: {} },
      );
      expect(seen).toEqual({ standby: false });
    } finally {
      await db.close();
    }
  });
});

describe('read-your-writes', () => {
  it('a replica that has not replayed the caller’s write leaves the read to the primary, until it has', async () => {
    await replica.client.query('select pg_wal_replay_pause()');
    try {
      await write(ann, 'ann: second');
      const position = await primaryWalPosition(pair.db.orm);
      expect(position).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);

      const behind = await look(ann, { readOnly: { after: position } });
      expect(behind).toMatchObject({ standby: false, readOnly: 'on', notes: ['ann: first', 'ann: second'] });
      // Without the position, the lagging replica serves the read: it has not seen the write.
      expect(await look(ann, { readOnly: {} })).toMatchObject({ standby: true, notes: ['ann: first'] });
      // The primary's read-only transaction refuses writes as the replica's does.
      await expect(writeReadOnly({ after: position })).rejects.toThrow(/read-only transaction/);
    } finally {
      await replica.client.query('select pg_wal_replay_resume()');
    }
    const position = await primaryWalPosition(pair.db.orm);
    await waitForReplay(pair.primaryUrl, pair.replicaUrl);
    expect(await look(ann, { readOnly: { after: position } })).toMatchObject({
      standby: true,
      notes: ['ann: first', 'ann: second'],
    });
  });
});

describe('DATABASE_REPLICA_URLS', () => {
  const primary = 'postgres://huddle@primary/huddle';

  it('lists the replicas of DATABASE_URL, comma-separated', () => {
    expect(
      databaseTargetFromEnv({
        DATABASE_URL: primary,
        DATABASE_REPLICA_URLS: 'postgres://huddle@replica-1/huddle, postgresql://huddle@replica-2/huddle',
      }),
    ).toEqual({
      kind: 'postgresql',
      url: primary,
      poolMax: 10,
      replicaUrls: ['postgres://huddle@replica-1/huddle', 'postgresql://huddle@replica-2/huddle'],
    });
    expect(databaseTargetFromEnv({ DATABASE_URL: primary, DATABASE_REPLICA_URLS: '' })).not.toHaveProperty(
      'replicaUrls',
    );
  });

  it.each([
    ['mysql://huddle@replica/huddle'],
    ['postgres://huddle@replica-1/huddle,'],
    ['postgres://huddle@replica-1/huddle,,postgres://huddle@replica-2/huddle'],
  ])('refuses %s with one line naming the variable', (value) => {
    expect(() => databaseTargetFromEnv({ DATABASE_URL: primary, DATABASE_REPLICA_URLS: value })).toThrow(
      new ConfigurationError(
        'DATABASE_REPLICA_URLS: must be comma-separated postgres:// or postgresql:// URLs',
      ),
    );
  });

  it('refuses replicas for the embedded database', () => {
    expect(() =>
      databaseTargetFromEnv({ DATABASE_REPLICA_URLS: 'postgres://huddle@replica/huddle' }),
    ).toThrow(
      'DATABASE_REPLICA_URLS: needs DATABASE_URL (replicas stream from a PostgreSQL primary; the embedded database has none)',
    );
  });
});
