import { useTestDatabase } from '@huddle/testing';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { decisionsModule } from '../src/module.ts';
import { decisionsOperations } from '../src/operations.ts';
import { defaultDecisionsResources } from '../src/resources.ts';
import {
  createDecisionInputSchema,
  decisionDetailSchema,
  decisionPageSchema,
  decisionSchema,
  extractionSchema,
  listDecisionsInputSchema,
  listMembersInputSchema,
  listProjectsInputSchema,
  listTranscriptsInputSchema,
  memberPageSchema,
  memberSchema,
  projectPageSchema,
  projectSchema,
  removedMemberSchema,
  similarDecisionSchema,
  supersedeChainSchema,
  transcriptPageSchema,
  transcriptSchema,
  userSchema,
  webhookReceiptSchema,
} from '../src/schemas.ts';
import { createDecision, getDecision, listDecisions, transitionDecision } from '../src/services/decisions.ts';
import { extractDecisions } from '../src/services/extraction.ts';
import {
  addMember,
  getProject,
  listMembers,
  listMyProjects,
  removeMember,
} from '../src/services/projects.ts';
import { relateDecisions, supersedeChain } from '../src/services/relationships.ts';
import { similarDecisions } from '../src/services/similarity.ts';
import { createTranscript, listTranscripts, receiveWebhookTranscript } from '../src/services/transcripts.ts';
import { getCurrentUser } from '../src/services/users.ts';
import { newDirector, newPerson, newProject } from './fixtures.ts';
import { actorTransactions, asActor, call, requestTransactions } from './helpers.ts';

const test = useTestDatabase([decisionsModule]);

/** Parses `value` with `schema` and expects nothing stripped or changed: an output carries exactly its schema. */
function conforms<Schema extends z.ZodType>(schema: Schema, value: unknown): void {
  const result = schema.safeParse(value);
  if (!result.success) throw new Error(`${JSON.stringify(result.error.issues)} in ${JSON.stringify(value)}`);
  expect(result.data).toEqual(value);
}

describe('service outputs match their zod output schemas', () => {
  it('for people, projects, transcripts, decisions, relationships and similarity', async () => {
    const director = await newDirector(test.db);
    const owner = await newPerson(test.db, director, 'Owner');
    const other = await newPerson(test.db, director, 'Other');
    const projectId = await newProject(test.db, owner);
    const as = <T>(work: Parameters<typeof asActor<T>>[2]) => asActor(test.db, owner, work);
    const resources = defaultDecisionsResources();

    conforms(userSchema, await as((em, a) => getCurrentUser(em, a)));
    for (const user of (
      await call(test.db, director, decisionsOperations.users.list, { includeDeleted: true })
    ).items) {
      conforms(userSchema, user);
    }
    conforms(projectSchema, await as((em, a) => getProject(em, a, { projectId })));
    conforms(
      projectPageSchema,
      await as((em, a) => listMyProjects(em, a, listProjectsInputSchema.parse({}))),
    );
    conforms(
      memberSchema,
      await as((em, a) => addMember(em, a, { projectId, userId: other.userId, role: 'viewer' })),
    );
    conforms(
      memberPageSchema,
      await as((em, a) => listMembers(em, a, listMembersInputSchema.parse({ projectId }))),
    );
    conforms(
      removedMemberSchema,
      await as((em, a) => removeMember(em, a, { projectId, userId: other.userId })),
    );

    const transcript = await as((em, a) =>
      createTranscript(em, a, {
        projectId,
        title: 'Sync',
        source: 'manual',
        meetingAt: '2026-11-22T09:00:00Z',
        participants: [{ name: 'Ann', email: 'ann@example.com' }, { name: 'Bob' }],
        content: 'Ann: We decided to adopt Kafka.\nBob: I object.',
      }),
    );
    conforms(transcriptSchema, transcript);
    conforms(
      transcriptPageSchema,
      await as((em, a) => listTranscripts(em, a, listTranscriptsInputSchema.parse({ projectId }))),
    );
    const extraction = await extractDecisions(
      actorTransactions(test.db, owner),
      { transcriptId: transcript.id },
      resources,
    );
    conforms(extractionSchema, extraction);
    conforms(
      webhookReceiptSchema,
      await receiveWebhookTranscript(
        requestTransactions(test.db),
        {
          webhookId: 'outputs-1',
          projectId,
          title: 'Hook',
          meetingAt: '2026-11-22T10:00:00Z',
          participants: [],
          content: "Ann: Let's go with Redis.",
        },
        resources,
      ),
    );

    const first = await as((em, a) =>
      createDecision(
        em,
        a,
        createDecisionInputSchema.parse({
          projectId,
          title: 'Adopt Kafka',
          statement: 'We adopt Kafka.',
          confidence: 0.9,
        }),
        resources,
      ),
    );
    conforms(decisionSchema, first);
    const second = await as((em, a) =>
      createDecision(
        em,
        a,
        createDecisionInputSchema.parse({
          projectId,
          transcriptId: transcript.id,
          title: 'Adopt Kafka with schemas',
          statement: 'We adopt Kafka with a schema registry.',
          rationale: 'Contracts',
          confidence: 0.8,
          impacts: [{ area: 'api' }],
        }),
        resources,
      ),
    );
    await as((em, a) =>
      relateDecisions(em, a, { fromDecisionId: second.id, toDecisionId: first.id, kind: 'supersedes' }),
    );
    conforms(
      decisionSchema,
      await as((em, a) => transitionDecision(em, a, { decisionId: second.id, status: 'accepted' })),
    );
    conforms(decisionDetailSchema, await as((em, a) => getDecision(em, a, { decisionId: first.id })));
    conforms(
      decisionPageSchema,
      await as((em, a) => listDecisions(em, a, listDecisionsInputSchema.parse({ projectId }))),
    );
    conforms(supersedeChainSchema, await as((em, a) => supersedeChain(em, a, { decisionId: first.id })));
    for (const row of await as((em, a) =>
      similarDecisions(em, a, { decisionId: first.id, k: 3 }, resources),
    )) {
      conforms(similarDecisionSchema, row);
    }
  });
});
