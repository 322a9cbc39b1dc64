import { type ModuleJob, toVectorLiteral } from '@huddle/db';
import { currentEmbedder, decisionText, embedTexts } from './similarity/embedder.ts';

/** Decisions embedded per statement: enough to amortise round trips, small enough to bound memory. */
const REEMBED_BATCH = 500;

/**
 * `decisions.reembed`: embeds decisions that have no embedding, or one from another embedder than the
 * current one (after switching models), in batches; deleted decisions too, so a restore finds them.
 * Idempotent: a second run finds nothing to do.
 */
export const reembedJob: ModuleJob = {
  name: 'reembed',
  description: 'Embed decisions without an embedding or with one from another embedder',
  schedule: '*/10 * * * *',
  async run(em) {
    const model = currentEmbedder().name;
    let rows = 0;
    for (;;) {
      const batch: { id: number; title: string; statement: string }[] = await em.execute(
        `select id, title, statement from decisions.decisions
         where embedding is null or embedding_model is distinct from ? order by id limit ?`,
        [model, REEMBED_BATCH],
      );
      if (batch.length === 0) break;
      const { vectors } = await embedTexts(batch.map(decisionText));
      await em.execute(
        `update decisions.decisions d set embedding = v.embedding::vector, embedding_model = ?
         from jsonb_to_recordset(?::jsonb) as v(id int, embedding text) where d.id = v.id`,
        [
          model,
          JSON.stringify(
            batch.map((row, index) => ({ id: row.id, embedding: toVectorLiteral(vectors[index]!) })),
          ),
        ],
      );
      rows += batch.length;
    }
    return { rows, summary: `${rows} decisions embedded with ${model}` };
  },
};
