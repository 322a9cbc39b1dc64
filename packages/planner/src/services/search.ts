import {
  type EntityManager,
  executePrepared,
  keysetTimestampSql,
  outputObjectSql,
  type PreparedStatement,
  preparedStatement,
} from '@huddle/db';
import { toPage } from '@huddle/db/zod';
import type { PlannerActor } from '../actor.ts';
import { stepWordsSql } from '../entities/artifact.ts';
import type {
  ArtifactMatch,
  ArtifactMatchPage,
  ArtifactsWithStepInput,
  ChatSessionMatch,
  ChatSessionMatchPage,
  ChatSessionsMentioningInput,
  PlanMatchPage,
  PlansTouchingFileInput,
  PlanVersion,
} from '../schemas.ts';
import { artifactColumns, chatSessionColumns, planVersionColumns } from './outputs.ts';

/**
 * Search by content: JSONB containment (`@>`), which the default `jsonb_ops` GIN indexes answer
 * (`idx_plan_artifacts_content_gin`, `idx_chat_messages_gin`), and steps by words, through the full-text
 * index `idx_plan_artifacts_steps_search`. Each search is one prepared statement that reads a page of its
 * answer, rendered by the database from the column maps (`item`), each with its sort key for the next page's
 * cursor (`key`). A repository (`repositoryId`) and a cursor are parameters that may be null.
 */

/** A search's statement with its parameters, exported so tests can EXPLAIN and run exactly what the services run. */
export interface SearchQuery<Item> {
  statement: PreparedStatement<{ item: Item; key: unknown }>;
  params: unknown[];
  /** The page size; the statement reads one row more, which says whether another page follows. */
  limit: number;
}

/** `plansTouchingFileQuery`'s statement: `$1`–`$2` the containment patterns, `$3` the repository, `$6` the limit. */
const plansTouchingFileStatement = preparedStatement<{ item: PlanVersion; key: unknown }>(
  'planner.plans_touching_file',
  `select ${outputObjectSql(planVersionColumns('p'))} as item, json_build_array(p.name, p.version, p.id) as key
   from planner.plans p where p.id in (
     select a.plan_id from planner.plan_artifacts a where a.content @> $1::jsonb or a.content @> $2::jsonb)
     and ($3::uuid is null or p.repository_id = $3::uuid)
     and ($4::text is null or (p.name, p.version, p.id) > ($4::text, $5::int, $7::uuid))
   order by p.name, p.version, p.id limit $6`,
);

/** Plan versions with a code change to `path` (as the changed path or as the path a rename came from). */
export function plansTouchingFileQuery({
  path,
  repositoryId,
  limit,
  cursor,
}: PlansTouchingFileInput): SearchQuery<PlanVersion> {
  const [name, version, id] = cursor ?? [null, null, null];
  return {
    statement: plansTouchingFileStatement,
    params: [
      JSON.stringify({ changes: [{ path }] }),
      JSON.stringify({ changes: [{ previousPath: path }] }),
      repositoryId ?? null,
      name,
      version,
      limit + 1,
      id,
    ],
    limit,
  };
}

/**
 * An `artifactsWithStepQuery` statement over the matching artifacts `a` (`match`, on `$1`): `$2` the
 * repository, `$3`–`$6` the cursor's plan name, version, artifact creation time and id, `$7` the limit.
 */
function artifactsWithStepStatement(name: string, match: string) {
  return preparedStatement<{ item: ArtifactMatch; key: unknown }>(
    name,
    `select ${outputObjectSql<ArtifactMatch>({
      artifact: outputObjectSql(artifactColumns('a')),
      plan: outputObjectSql(planVersionColumns('p')),
    })} as item, json_build_array(p.name, p.version, ${keysetTimestampSql('a.created_at')}, a.id) as key
     from planner.plan_artifacts a join planner.plans p on p.id = a.plan_id
     where ${match} and ($2::uuid is null or p.repository_id = $2::uuid)
       and ($3::text is null
            or (p.name, p.version, a.created_at, a.id) > ($3::text, $4::int, $5::timestamptz, $6::uuid))
     order by p.name, p.version, a.created_at, a.id limit $7`,
  );
}

/** Steps titled `$1` (a containment pattern): `idx_plan_artifacts_content_gin`. */
const artifactsWithStepTitleStatement = artifactsWithStepStatement(
  'planner.artifacts_with_step_title',
  'a.content @> $1::jsonb',
);
/** Steps with the words `$1` in a title or detail: `idx_plan_artifacts_steps_search`. */
const artifactsWithStepWordsStatement = artifactsWithStepStatement(
  'planner.artifacts_with_step_words',
  `a.artifact_type = 'implementation_steps' and ${stepWordsSql('a.content')} @@ websearch_to_tsquery('english', $1)`,
);

/**
 * Artifacts (implementation steps) with a step titled `title` (containment: `idx_plan_artifacts_content_gin`),
 * or whose steps' titles and details have `words` (full-text search: `idx_plan_artifacts_steps_search`).
 */
export function artifactsWithStepQuery({
  title,
  words,
  repositoryId,
  limit,
  cursor,
}: ArtifactsWithStepInput): SearchQuery<ArtifactMatch> {
  return {
    statement: words === undefined ? artifactsWithStepTitleStatement : artifactsWithStepWordsStatement,
    params: [
      words ?? JSON.stringify({ steps: [{ title }] }),
      repositoryId ?? null,
      ...(cursor ?? [null, null, null, null]),
      limit + 1,
    ],
    limit,
  };
}

/**
 * `chatSessionsMentioningQuery`'s statement: `$1` the containment pattern, `$2` the repository, `$3`–`$4`
 * the cursor's change time and id, `$5` the limit.
 */
const chatSessionsMentioningStatement = preparedStatement<{ item: ChatSessionMatch; key: unknown }>(
  'planner.chat_sessions_mentioning',
  `select ${outputObjectSql<ChatSessionMatch>({
    ...chatSessionColumns('c'),
    plan: outputObjectSql(planVersionColumns('p')),
  })} as item, json_build_array(${keysetTimestampSql('c.updated_at')}, c.id) as key
   from planner.chat_sessions c join planner.plans p on p.id = c.plan_id
   where c.messages @> $1::jsonb and ($2::uuid is null or p.repository_id = $2::uuid)
     and ($3::timestamptz is null or (c.updated_at, c.id) < ($3::timestamptz, $4::uuid))
   order by c.updated_at desc, c.id desc limit $5`,
);

/**
 * Chat sessions with a message mentioning `term` (a word of its content, as `chatTerms` splits it), of
 * `role` when given: `messages @> '[{"terms": [term]}]'`. Latest changed first.
 */
export function chatSessionsMentioningQuery({
  term,
  role,
  repositoryId,
  limit,
  cursor,
}: ChatSessionsMentioningInput): SearchQuery<ChatSessionMatch> {
  return {
    statement: chatSessionsMentioningStatement,
    params: [
      JSON.stringify([{ ...(role && { role }), terms: [term] }]),
      repositoryId ?? null,
      ...(cursor ?? [null, null]),
      limit + 1,
    ],
    limit,
  };
}

/** A page of what `query` finds, and the cursor of the next page. */
async function searchPage<Item>(
  em: EntityManager,
  query: SearchQuery<Item>,
): Promise<{ items: Item[]; nextCursor: string | null }> {
  const rows = await executePrepared(em, query.statement, query.params);
  return toPage(
    rows,
    query.limit,
    (row) => row.item,
    (row) => row.key,
  );
}

export function plansTouchingFile(
  em: EntityManager,
  _actor: PlannerActor,
  input: PlansTouchingFileInput,
): Promise<PlanMatchPage> {
  return searchPage(em, plansTouchingFileQuery(input));
}

export function artifactsWithStep(
  em: EntityManager,
  _actor: PlannerActor,
  input: ArtifactsWithStepInput,
): Promise<ArtifactMatchPage> {
  return searchPage(em, artifactsWithStepQuery(input));
}

export function chatSessionsMentioning(
  em: EntityManager,
  _actor: PlannerActor,
  input: ChatSessionsMentioningInput,
): Promise<ChatSessionMatchPage> {
  return searchPage(em, chatSessionsMentioningQuery(input));
}
