import { ConflictError, type EntityManager, type HuddleError, NotFoundError, parseInput } from '@huddle/db';
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
 * A new transcript's decisions are proposed in the same transaction. A first delivery into a project that
 * does not exist or is archived is refused (not found / conflict); a redelivery still answers.
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
     select p.id, ?, ?, 'webhook', ?, ?::jsonb, ? from decisions.projects p where p.id = ? and p.archived_at is null
     on conflict (webhook_id) do nothing returning id`,
    [webhookId, title, new Date(meetingAt), JSON.stringify(participants), content, projectId],
  );
  const created = inserted.length > 0;
  const transcript = await em.findOne(DecisionsTranscript, { webhookId });
  if (!transcript) throw await webhookProjectRefusal(em, projectId);
  const proposed = created ? (await proposeFromTranscript(em, transcript)).proposed : [];
  return { transcript: toTranscript(transcript), created, proposed };
}

/** Why a first delivery inserted nothing: its project does not exist, or is archived (read-only). */
async function webhookProjectRefusal(em: EntityManager, projectId: number): Promise<HuddleError> {
  const rows: unknown[] = await em.execute('select 1 from decisions.projects where id = ?', [projectId]);
  return rows.length === 0
    ? new NotFoundError(`projectId: project ${projectId} does not exist`, { field: 'projectId' })
    : new ConflictError(`projectId: project ${projectId} is archived; unarchive it first`, {
        field: 'projectId',
      });
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
