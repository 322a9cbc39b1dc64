import { type ModuleJob, toVectorLiteral } from '@huddle/db';
import type { DecisionsResources } from './resources.ts';
import { decisionText, embedTexts } from './similarity/embedder.ts';

/** Decisions embedded per statement: enough to amortise round trips, small enough to bound memory. */
const REEMBED_BATCH = 500;

/** The decisions module's scheduled jobs (`huddle jobs run decisions.<name>`). */
export const decisionsJobs: ModuleJob<DecisionsResources>[] = [
  {
    /**
     * Embeds decisions that have no embedding, or one from another embedder than the module's (after
     * switching models), in batches; deleted decisions too, so a restore finds them. Idempotent: a second
     * run finds nothing to do.
     */
    name: 'reembed',
    description: 'Embed decisions without an embedding or with one from another embedder',
    schedule: '*/10 * * * *',
    async run(em, { resources: { embedder } }) {
      let rows = 0;
      for (;;) {
        const batch: { id: number; title: string; statement: string }[] = await em.execute(
          `select id, title, statement from decisions.decisions
           where embedding is null or embedding_model is distinct from ? order by id limit ?`,
          [embedder.name, REEMBED_BATCH],
        );
        if (batch.length === 0) break;
        const { vectors } = await embedTexts(embedder, batch.map(decisionText));
        await em.execute(
          `update decisions.decisions d set embedding = v.embedding::vector, embedding_model = ?
           from jsonb_to_recordset(?::jsonb) as v(id int, embedding text) where d.id = v.id`,
          [
            embedder.name,
            JSON.stringify(
              batch.map((row, index) => ({ id: row.id, embedding: toVectorLiteral(vectors[index]!) })),
            ),
          ],
        );
        rows += batch.length;
      }
      return { rows, summary: `${rows} decisions embedded with ${embedder.name}` };
    },
  },
];
