import { type EntityManager, parseInput } from '@huddle/db';
import type { DecisionsActor } from '../actor.ts';
import { DecisionsTranscript } from '../entities/transcript.ts';
import {
  type CreateTranscriptInput,
  createTranscriptInputSchema,
  type ListTranscriptsInput,
  listTranscriptsInputSchema,
  type Transcript,
  type TranscriptIdInput,
  transcriptIdInputSchema,
  type WebhookReceipt,
  type WebhookTranscriptInput,
  webhookTranscriptInputSchema,
} from '../schemas.ts';
import { requireProjectRole, requireTranscript } from './access.ts';
import { proposeFromTranscript } from './extraction.ts';
import { toTranscript } from './outputs.ts';

/** Records a transcript entered by hand or uploaded as a file's text (member). */
export async function createTranscript(
  em: EntityManager,
  actor: DecisionsActor,
  input: CreateTranscriptInput,
): Promise<Transcript> {
  const { projectId, title, source, meetingAt, participants, content } = parseInput(
    createTranscriptInputSchema,
    input,
  );
  await requireProjectRole(em, actor, projectId, 'member');
  const transcript = em.create(DecisionsTranscript, {
    project: projectId,
    title,
    source,
    meetingAt: new Date(meetingAt),
    participants,
    content,
  });
  await em.flush();
  return toTranscript(transcript);
}

/**
 * A transcript delivered by a webhook (the API's signed route calls this after `verifyWebhookSignature`;
 * no user acts). Idempotent by `webhookId`, also for two deliveries at the same moment: one
 * `insert … on conflict do nothing returning`, and a redelivery reads the transcript the first one created.
 * A new transcript's decisions are proposed in the same transaction.
 */
export async function receiveWebhookTranscript(
  em: EntityManager,
  input: WebhookTranscriptInput,
): Promise<WebhookReceipt> {
  const { webhookId, projectId, title, meetingAt, participants, content } = parseInput(
    webhookTranscriptInputSchema,
    input,
  );
  const inserted: { id: number }[] = await em.execute(
    `insert into decisions.transcripts (project_id, webhook_id, title, source, meeting_at, participants, content)
     values (?, ?, ?, 'webhook', ?, ?::jsonb, ?)
     on conflict (webhook_id) do nothing returning id`,
    [projectId, webhookId, title, new Date(meetingAt), JSON.stringify(participants), content],
  );
  const created = inserted.length > 0;
  const transcript = await em.findOneOrFail(DecisionsTranscript, { webhookId });
  const proposed = created ? (await proposeFromTranscript(em, transcript)).proposed : [];
  return { transcript: toTranscript(transcript), created, proposed };
}

export async function getTranscript(
  em: EntityManager,
  actor: DecisionsActor,
  input: TranscriptIdInput,
): Promise<Transcript> {
  const { transcriptId } = parseInput(transcriptIdInputSchema, input);
  return toTranscript(await requireTranscript(em, actor, transcriptId, 'viewer'));
}

/**
 * A project's transcripts, latest meeting first; with a participant's email or name, only the meetings they
 * took part in (a containment search the GIN index on participants serves).
 */
export async function listTranscripts(
  em: EntityManager,
  actor: DecisionsActor,
  input: ListTranscriptsInput,
): Promise<Transcript[]> {
  const { projectId, participantEmail, participantName } = parseInput(listTranscriptsInputSchema, input);
  await requireProjectRole(em, actor, projectId, 'viewer');
  const participant = {
    ...(participantEmail && { email: participantEmail }),
    ...(participantName && { name: participantName }),
  };
  const rows: { id: number }[] = await em.execute(
    `select id from decisions.transcripts where project_id = ? and participants @> ?::jsonb
     order by meeting_at desc, id desc`,
    [projectId, JSON.stringify(Object.keys(participant).length > 0 ? [participant] : [])],
  );
  const transcripts = await em.find(DecisionsTranscript, { id: { $in: rows.map((row) => row.id) } });
  const byId = new Map(transcripts.map((transcript) => [transcript.id, transcript]));
  return rows.map((row) => toTranscript(byId.get(row.id)!));
}
