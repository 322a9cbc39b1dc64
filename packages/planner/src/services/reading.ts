import { isDeepStrictEqual } from 'node:util';
import { type EntityManager, InvalidInputError } from '@huddle/db';
import type { PlannerActor } from '../actor.ts';
import {
  ARTIFACT_TYPES,
  type Artifact,
  type ArtifactChange,
  type ArtifactType,
  type CodeChangesContent,
  type ComparePlanVersionsInput,
  type FeaturePlanContent,
  type ImplementationStepsContent,
  type PlanComparison,
  type PlanExport,
  type PlanIdInput,
} from '../schemas.ts';
import { findRepository, readPlanDetail } from './lookups.ts';

/** Reading a plan as a person would: a Markdown export of a version, and what changed between two. */

const BACKTICK = 0x60;
const NEWLINE = 0x0a;

/**
 * A code fence longer than any backtick run in `text`, so a diff containing ``` cannot end it early. One
 * scan: a diff is up to a megabyte of a caller's text, so no array of its matches (spread as arguments, it
 * overflowed the stack) and no regex.
 */
function fence(text: string): string {
  let longest = 0;
  let run = 0;
  for (let index = 0; index < text.length; index++) {
    run = text.charCodeAt(index) === BACKTICK ? run + 1 : 0;
    if (run > longest) longest = run;
  }
  return '`'.repeat(Math.max(3, longest + 1));
}

/** `text` without its trailing newlines, by one backward scan (`/\n+$/` retries every run of newlines: quadratic). */
function trimTrailingNewlines(text: string): string {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === NEWLINE) end--;
  return text.slice(0, end);
}

function bulletList(title: string, items: readonly string[]): string[] {
  return items.length === 0 ? [] : [`### ${title}`, '', ...items.map((item) => `- ${item}`), ''];
}

function featurePlanMarkdown(content: FeaturePlanContent): string[] {
  return [
    '## Feature plan',
    '',
    content.summary,
    '',
    ...bulletList('Goals', content.goals),
    ...bulletList('Non-goals', content.nonGoals),
    ...bulletList('Risks', content.risks),
  ];
}

function stepsMarkdown(content: ImplementationStepsContent): string[] {
  return [
    '## Implementation steps',
    '',
    ...content.steps.flatMap((step, index) => [
      `${index + 1}. **${step.title}**`,
      ...(step.detail ? step.detail.split('\n').map((line) => (line ? `   ${line}` : '')) : []),
      ...(step.files.length > 0 ? [`   Files: ${step.files.map((file) => `\`${file}\``).join(', ')}`] : []),
    ]),
    '',
  ];
}

function codeChangesMarkdown(content: CodeChangesContent): string[] {
  return [
    '## Code changes',
    '',
    ...content.changes.flatMap((change) => {
      const heading =
        change.action === 'rename'
          ? `### \`${change.previousPath}\` → \`${change.path}\` (rename)`
          : `### \`${change.path}\` (${change.action})`;
      const marks = fence(change.diff);
      return [
        heading,
        '',
        ...(change.diff ? [`${marks}diff`, change.diff.replace(/\n$/, ''), marks, ''] : []),
      ];
    }),
  ];
}

function artifactMarkdown(artifact: Artifact): string[] {
  switch (artifact.type) {
    case 'feature_plan':
      return featurePlanMarkdown(artifact.content);
    case 'implementation_steps':
      return stepsMarkdown(artifact.content);
    case 'code_changes':
      return codeChangesMarkdown(artifact.content);
  }
}

/** Renders a version as Markdown: the feature plan, the numbered steps, the code changes with their diffs. */
export async function exportPlan(
  em: EntityManager,
  _actor: PlannerActor,
  input: PlanIdInput,
): Promise<PlanExport> {
  const { planId } = input;
  const plan = await readPlanDetail(em, planId);
  const repository = await findRepository(em, plan.repositoryId);
  const lines = [
    `# ${plan.name} — version ${plan.version} (${plan.status})`,
    '',
    `Repository **${repository.name}** (\`${repository.path}\`), target branch \`${plan.targetBranch}\`.`,
    '',
    ...(plan.description ? [plan.description, ''] : []),
    ...plan.artifacts.flatMap(artifactMarkdown),
  ];
  return { planId, markdown: `${trimTrailingNewlines(lines.join('\n'))}\n` };
}

/** `label added: x` / `label removed: x` for the items only one list has. */
function listChanges(label: string, before: readonly string[], after: readonly string[]): string[] {
  return [
    ...after.filter((item) => !before.includes(item)).map((item) => `${label} added: ${item}`),
    ...before.filter((item) => !after.includes(item)).map((item) => `${label} removed: ${item}`),
  ];
}

function featurePlanChanges(before: FeaturePlanContent, after: FeaturePlanContent): string[] {
  return [
    ...(before.summary === after.summary ? [] : ['summary changed']),
    ...listChanges('goal', before.goals, after.goals),
    ...listChanges('non-goal', before.nonGoals, after.nonGoals),
    ...listChanges('risk', before.risks, after.risks),
  ];
}

function stepChanges(before: ImplementationStepsContent, after: ImplementationStepsContent): string[] {
  const titles = (content: ImplementationStepsContent) => content.steps.map((step) => step.title);
  const changed = after.steps
    .filter((step) => {
      const previous = before.steps.find((candidate) => candidate.title === step.title);
      return previous !== undefined && !isDeepStrictEqual(previous, step);
    })
    .map((step) => `step changed: ${step.title}`);
  const common = (content: ImplementationStepsContent, other: ImplementationStepsContent) =>
    titles(content).filter((title) => titles(other).includes(title));
  const reordered = isDeepStrictEqual(common(before, after), common(after, before))
    ? []
    : ['steps reordered'];
  return [...listChanges('step', titles(before), titles(after)), ...changed, ...reordered];
}

function codeChanges(before: CodeChangesContent, after: CodeChangesContent): string[] {
  const paths = (content: CodeChangesContent) => content.changes.map((change) => change.path);
  const changed = after.changes.flatMap((change) => {
    const previous = before.changes.find((candidate) => candidate.path === change.path);
    if (!previous) return [];
    return [
      ...(previous.action === change.action ? [] : [`${change.path}: ${previous.action} → ${change.action}`]),
      ...(previous.diff === change.diff ? [] : [`${change.path}: diff changed`]),
      ...(previous.previousPath === change.previousPath ? [] : [`${change.path}: renamed from another path`]),
    ];
  });
  return [...listChanges('file', paths(before), paths(after)), ...changed];
}

function contentChanges(before: Artifact, after: Artifact): string[] {
  if (before.type === 'feature_plan' && after.type === 'feature_plan') {
    return featurePlanChanges(before.content, after.content);
  }
  if (before.type === 'implementation_steps' && after.type === 'implementation_steps') {
    return stepChanges(before.content, after.content);
  }
  if (before.type === 'code_changes' && after.type === 'code_changes')
    return codeChanges(before.content, after.content);
  return [];
}

function summary(artifact: Artifact): string {
  switch (artifact.type) {
    case 'feature_plan':
      return artifact.content.summary.split('\n')[0]!;
    case 'implementation_steps':
      return `${artifact.content.steps.length} steps`;
    case 'code_changes':
      return `${artifact.content.changes.length} files`;
  }
}

/**
 * What changed from one version of a plan to another: artifacts of each type are paired by their position
 * among that type's artifacts; each pair that differs by content says what differs.
 */
export async function comparePlanVersions(
  em: EntityManager,
  _actor: PlannerActor,
  input: ComparePlanVersionsInput,
): Promise<PlanComparison> {
  const { fromPlanId, toPlanId } = input;
  const { artifacts: before, ...from } = await readPlanDetail(em, fromPlanId, 'fromPlanId');
  const { artifacts: after, ...to } = await readPlanDetail(em, toPlanId, 'toPlanId');
  if (from.repositoryId !== to.repositoryId || from.name !== to.name) {
    throw new InvalidInputError(`toPlanId: must be a version of plan "${from.name}" of the same repository`, {
      field: 'toPlanId',
    });
  }
  const ofType = (artifacts: Artifact[], type: ArtifactType) =>
    artifacts.filter((artifact) => artifact.type === type);
  const changes: ArtifactChange[] = ARTIFACT_TYPES.flatMap((type) => {
    const old = ofType(before, type);
    const current = ofType(after, type);
    return Array.from({ length: Math.max(old.length, current.length) }, (_, position): ArtifactChange[] => {
      const previous = old[position];
      const next = current[position];
      if (!previous) return [{ type, position, change: 'added', details: [summary(next!)] }];
      if (!next) return [{ type, position, change: 'removed', details: [summary(previous)] }];
      if (isDeepStrictEqual(previous.content, next.content)) return [];
      return [{ type, position, change: 'modified', details: contentChanges(previous, next) }];
    }).flat();
  });
  return { from, to, changes };
}
