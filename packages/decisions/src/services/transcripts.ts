import {
  ConflictError,
  type EntityManager,
  executePrepared,
  type HuddleError,
  keysetTimestampSql,
  NotFoundError,
  outputColumnsSql,
  preparedStatement,
  type Transactions,
} from '@huddle/db';
import { toPage } from '@huddle/db/zod';
import type { DecisionsActor } from '../actor.ts';
import { DecisionsTranscript } from '../entities/transcript.ts';
import type { DecisionsResources } from '../resources.ts';
import type {
  CreateTranscriptInput,
  ListTranscriptsInput,
  Transcript,
  TranscriptIdInput,
  TranscriptPage,
  TranscriptSummary,
  WebhookReceipt,
  WebhookTranscriptInput,
} from '../schemas.ts';
import { requireProjectRole, transcriptNotFound } from './access.ts';
import { proposalsFor, recordProposals } from './extraction.ts';
import { toTranscript, transcriptColumns, transcriptSummaryColumns } from './outputs.ts';

/** Records a transcript entered by hand or uploaded as a file's text (member). */
export async function createTranscript(
  em: EntityManager,
  actor: DecisionsActor,
  input: CreateTranscriptInput,
): Promise<Transcript> {
  const { projectId, title, source, meetingAt, participants, content } = input;
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

/** The same delivery id with anything else: 409, saying nothing of the transcript it belongs to. */
const REUSED_DELIVERY_ID = new ConflictError(
  'webhookId: this delivery id was already used for a different delivery; give each delivery its own id',
  { field: 'webhookId' },
);

/**
 * The transcript an earlier delivery with this id created, if the same sender delivered it before: same
 * project, title, meeting time, participants and content (a redelivery). None: the id is new. A delivery id
 * reused for anything else is REUSED_DELIVERY_ID, whatever project either names.
 */
async function earlierDelivery(
  em: EntityManager,
  delivery: WebhookTranscriptInput,
): Promise<DecisionsTranscript | null> {
  const rows: { id: number; same: boolean }[] = await em.execute(
    `select id, (project_id = ? and title = ? and meeting_at = ? and participants = ?::jsonb and content = ?) as same
     from decisions.transcripts where webhook_id = ?`,
    [
      delivery.projectId,
      delivery.title,
      new Date(delivery.meetingAt),
      JSON.stringify(delivery.participants),
      delivery.content,
      delivery.webhookId,
    ],
  );
  const earlier = rows[0];
  if (!earlier) return null;
  if (!earlier.same) throw REUSED_DELIVERY_ID;
  return em.findOneOrFail(DecisionsTranscript, earlier.id);
}

/**
 * A transcript delivered by a webhook (the API's signed route calls this after `verifyWebhookSignature`
 * and parsing the body with `webhookTranscriptInputSchema`; no user acts). Delivery ids are the sender's: one id is one delivery, in one project. A redelivery (same
 * id, same delivery) answers with the transcript the first one created, also for two deliveries at the same
 * moment (`insert … on conflict do nothing returning`); the same id with other content or another project is
 * a conflict that reveals nothing. The extractor and the embedder read a new delivery outside any
 * transaction; the transcript and its proposed decisions are then recorded in one. A first delivery into a
 * project that does not exist or is archived is refused (not found / conflict); a redelivery still answers.
 */
export async function receiveWebhookTranscript(
  inTransaction: Transactions,
  delivery: WebhookTranscriptInput,
  resources: DecisionsResources,
): Promise<WebhookReceipt> {
  const redelivered = (transcript: DecisionsTranscript): WebhookReceipt => ({
    transcript: toTranscript(transcript),
    created: false,
    proposed: [],
    duplicates: [],
  });
  const earlier = await inTransaction((em) => earlierDelivery(em, delivery));
  if (earlier) return redelivered(earlier);
  const proposals = await proposalsFor(delivery, resources);
  return inTransaction(async (em) => {
    const { webhookId, projectId, title, meetingAt, participants, content } = delivery;
    const inserted: { id: number }[] = await em.execute(
      `insert into decisions.transcripts (project_id, webhook_id, title, source, meeting_at, participants, content)
       select p.id, ?, ?, 'webhook', ?, ?::jsonb, ? from decisions.projects p where p.id = ? and p.archived_at is null
       on conflict (webhook_id) do nothing returning id`,
      [webhookId, title, new Date(meetingAt), JSON.stringify(participants), content, projectId],
    );
    if (inserted.length === 0) {
      // Another delivery of this id got in first, or the project refuses it.
      const raced = await earlierDelivery(em, delivery);
      if (raced) return redelivered(raced);
      throw await webhookProjectRefusal(em, projectId);
    }
    const transcript = await em.findOneOrFail(DecisionsTranscript, inserted[0]!.id);
    const { proposed, duplicates } = await recordProposals(
      em,
      { id: transcript.id, projectId, meetingAt: transcript.meetingAt },
      proposals,
    );
    return { transcript: toTranscript(transcript), created: true, proposed, duplicates };
  });
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

/** `getTranscript`'s statement: `$1` the transcript, `$2` the actor (a member of its project sees it). */
const transcriptStatement = preparedStatement<Transcript>(
  'decisions.transcript',
  `select ${outputColumnsSql(transcriptColumns('t'))}
   from decisions.transcripts t
   join decisions.project_members m on m.project_id = t.project_id and m.user_id = $2
   where t.id = $1`,
);

/** A transcript, whole, for the members of its project (to anyone else it does not exist). */
export async function getTranscript(
  em: EntityManager,
  actor: DecisionsActor,
  input: TranscriptIdInput,
): Promise<Transcript> {
  const { transcriptId } = input;
  const [transcript] = await executePrepared(em, transcriptStatement, [transcriptId, actor.userId]);
  if (!transcript) throw transcriptNotFound(transcriptId);
  return transcript;
}

/**
 * `listTranscripts`' statement: `$1` the project, `$2` the participants to contain (jsonb), `$3` the page
 * size and one, `$4`–`$5` the cursor's meeting time and id (null: first page).
 */
const transcriptsStatement = preparedStatement<TranscriptSummary & { key: string }>(
  'decisions.transcripts_page',
  `select ${outputColumnsSql(transcriptSummaryColumns('t'))}, ${keysetTimestampSql('t.meeting_at')} as key
   from decisions.transcripts t where t.project_id = $1 and t.participants @> $2::jsonb
     and ($4::timestamptz is null or (t.meeting_at, t.id) < ($4::timestamptz, $5::int))
   order by t.meeting_at desc, t.id desc limit $3`,
);

/**
 * A project's transcripts, latest meeting first, a page at a time, without their text; with a participant's
 * email or name, only the meetings they took part in (a containment search the GIN index on participants
 * serves).
 */
export async function listTranscripts(
  em: EntityManager,
  actor: DecisionsActor,
  input: ListTranscriptsInput,
): Promise<TranscriptPage> {
  const { projectId, participantEmail, participantName, limit, cursor } = input;
  await requireProjectRole(em, actor, projectId, 'viewer');
  const participant = {
    ...(participantEmail && { email: participantEmail }),
    ...(participantName && { name: participantName }),
  };
  const rows = await executePrepared(em, transcriptsStatement, [
    projectId,
    JSON.stringify(Object.keys(participant).length > 0 ? [participant] : []),
    limit + 1,
    ...(cursor ?? [null, null]),
  ]);
  return toPage(
    rows,
    limit,
    ({ key, ...summary }) => summary,
    (row) => [row.key, row.id],
  );
}
