import { ModuleResources, runJob } from '@huddle/db';
import { useTestDatabase } from '@huddle/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { decisionsModule } from '../src/module.ts';
import { decisionsOperations } from '../src/operations.ts';
import { defaultDecisionsResources } from '../src/resources.ts';
import type { Embedder } from '../src/similarity/embedder.ts';
import { newDirector, newPerson, newProject } from './fixtures.ts';
import { call, useSqlClient } from './helpers.ts';

const test = useTestDatabase([decisionsModule]);
const postgres = useSqlClient(test);
const ids: number[] = [];

beforeAll(async () => {
  const director = await newDirector(test.db);
  const owner = await newPerson(test.db, director, 'Owner');
  const projectId = await newProject(test.db, owner);
  for (const title of ['Adopt Kafka', 'Retire cron jobs', 'Encrypt S3 buckets']) {
    const decision = await call(test.db, owner, decisionsOperations.decisions.create, {
      projectId,
      title,
      statement: `${title} this quarter.`,
      confidence: 0.7,
    });
    ids.push(decision.id);
  }
});

/** The composed resources with `embedder` as the decisions module's. */
async function withEmbedder(embedder: Embedder): Promise<ModuleResources> {
  const composed = await ModuleResources.fromEnv([decisionsModule]);
  return composed.with(decisionsModule, { ...defaultDecisionsResources(), embedder });
}

const models = async () =>
  (
    await postgres.client.query<{ model: string | null; embedded: boolean }>(
      'select embedding_model as model, embedding is not null as embedded from decisions.decisions where id = any($1) order by id',
      [ids],
    )
  ).rows;

describe('decisions.reembed', () => {
  it('fills missing embeddings, and a second run finds nothing to do', async () => {
    await postgres.client.query(
      'update decisions.decisions set embedding = null, embedding_model = null where id = $1',
      [ids[1]],
    );
    expect(await runJob(test.db, 'decisions.reembed')).toMatchObject({ status: 'ran', rows: 1 });
    expect(await models()).toEqual(ids.map(() => ({ model: 'hashing-ngrams-v1', embedded: true })));
    expect(await runJob(test.db, 'decisions.reembed')).toMatchObject({ status: 'ran', rows: 0 });
  });

  it('re-embeds everything after the embedder changes', async () => {
    const constant: Embedder = {
      name: 'constant-test-v1',
      embed: async (texts) =>
        texts.map(() => Array.from({ length: 384 }, (_, index) => (index === 1 ? 1 : 0))),
    };
    const report = await runJob(test.db, 'decisions.reembed', { resources: await withEmbedder(constant) });
    expect(report).toMatchObject({ status: 'ran' });
    expect(report.status === 'ran' && report.rows).toBeGreaterThanOrEqual(ids.length);
    expect(await models()).toEqual(ids.map(() => ({ model: 'constant-test-v1', embedded: true })));
    const { rows } = await postgres.client.query(
      'select count(*)::int as n from decisions.decisions where embedding <=> $1 > 1e-6',
      [`[${Array.from({ length: 384 }, (_, index) => (index === 1 ? 1 : 0)).join(',')}]`],
    );
    expect(rows[0].n).toBe(0);
  });

  it('refuses an embedder that returns vectors of another dimension, writing nothing', async () => {
    const broken: Embedder = { name: 'broken-test-v1', embed: async (texts) => texts.map(() => [1, 0, 0]) };
    await expect(
      runJob(test.db, 'decisions.reembed', { resources: await withEmbedder(broken) }),
    ).rejects.toThrow(/must return 384 finite numbers/);
    expect((await models()).map((row) => row.model)).not.toContain('broken-test-v1');
  });
});
