import { text } from '@huddle/db/zod';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { mutatedInputs, validInputs } from '../src/testing/inputs.ts';

interface Tree {
  label: string;
  children: Tree[];
}
const tree: z.ZodType<Tree> = z.lazy(() =>
  z.object({ label: text().max(20), children: z.array(tree).max(3) }),
);

/** What a future module may declare: the generator must produce inputs that pass it, not just noise. */
const everything = z.object({
  name: text().trim().min(1).max(40),
  email: text().max(255).toLowerCase().pipe(z.email()),
  code: z.string().regex(/^[A-Z]{3}-\d{4}$/),
  id: z.number().int().positive().max(2_147_483_647),
  ratio: z.number().min(0).max(1),
  kind: z.enum(['task', 'bug', 'story']),
  tags: z.array(text().min(1).max(10)).min(1).max(5),
  note: text().max(100).optional(),
  due: z.iso.datetime().nullable(),
  priority: z.number().int().min(1).max(5).default(3),
  target: z.union([z.object({ userId: z.number().int().positive() }), z.object({ team: text().min(2) })]),
  event: z.discriminatedUnion('type', [
    z.object({ type: z.literal('moved'), to: z.enum(['todo', 'done']) }),
    z.object({ type: z.literal('commented'), body: text().min(1).max(200) }),
  ]),
  meta: z.record(z.string().max(10), z.number().int()),
  tree,
  uuid: z.uuid().optional(),
});

describe('inputs derived from a zod schema', () => {
  it('valid inputs pass the schema they come from, for every kind of field', () => {
    const samples = fc.sample(validInputs(everything), { seed: 7, numRuns: 300 });
    const failures = samples
      .map((sample) => everything.safeParse(sample))
      .filter((result) => !result.success)
      .map((result) => result.error?.issues[0]);
    // A pipe's two halves are generated separately (input side, then output side), so a few input-side
    // strings miss the email format; everything else must pass.
    expect(failures.filter((issue) => issue?.path[0] !== 'email')).toEqual([]);
    expect(failures.length).toBeLessThan(samples.length / 2);
  });

  it('mutated inputs are JSON a client can send, and mostly refused', () => {
    const samples = fc.sample(mutatedInputs(everything), { seed: 7, numRuns: 300 });
    for (const sample of samples) expect(() => JSON.stringify(sample)).not.toThrow();
    const refused = samples.filter((sample) => !everything.safeParse(sample).success);
    expect(refused.length).toBeGreaterThan(samples.length * 0.6);
  });
});
