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
  type FileChange,
  type FileDifferences,
  type ImplementationStep,
  type ImplementationStepsContent,
  type PlanComparison,
  type PlanExport,
  type PlanIdInput,
  type StepDifferences,
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

/**
 * Indices (into `values`) of one longest strictly increasing subsequence, by patience sorting: O(n log n),
 * so a version of thousands of steps compares quickly.
 */
function longestIncreasing(values: readonly number[]): Set<number> {
  const tails: number[] = [];
  const previous: number[] = [];
  values.forEach((value, index) => {
    let low = 0;
    let high = tails.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (values[tails[middle]!]! < value) low = middle + 1;
      else high = middle;
    }
    previous[index] = low > 0 ? tails[low - 1]! : -1;
    tails[low] = index;
  });
  const kept = new Set<number>();
  for (let index = tails.at(-1) ?? -1; index >= 0; index = previous[index]!) kept.add(index);
  return kept;
}

/**
 * Steps of two versions paired by title (the k-th step of a title with the k-th of the same title): the
 * unpaired are added or removed, a pair that differs is changed, and a pair outside the longest run of pairs
 * kept in order was reordered (moved relative to the others). Each named by its title.
 */
function stepDifferences(
  before: readonly ImplementationStep[],
  after: readonly ImplementationStep[],
): StepDifferences {
  const unpaired = new Map<string, number[]>();
  before.forEach((step, index) => {
    const indices = unpaired.get(step.title);
    if (indices) indices.push(index);
    else unpaired.set(step.title, [index]);
  });
  const pairs: [number, number][] = [];
  const added: string[] = [];
  after.forEach((step, index) => {
    const earlier = unpaired.get(step.title)?.shift();
    if (earlier === undefined) added.push(step.title);
    else pairs.push([earlier, index]);
  });
  const paired = new Set(pairs.map(([earlier]) => earlier));
  const inOrder = longestIncreasing(pairs.map(([earlier]) => earlier));
  return {
    added,
    removed: before.filter((_, index) => !paired.has(index)).map((step) => step.title),
    changed: pairs
      .filter(([earlier, later]) => !isDeepStrictEqual(before[earlier], after[later]))
      .map(([, later]) => after[later]!.title),
    reordered: pairs.filter((_, index) => !inOrder.has(index)).map(([, later]) => after[later]!.title),
  };
}

function stepChanges(before: ImplementationStepsContent, after: ImplementationStepsContent): string[] {
  const { added, removed, changed, reordered } = stepDifferences(before.steps, after.steps);
  return [
    ...added.map((title) => `step added: ${title}`),
    ...removed.map((title) => `step removed: ${title}`),
    ...changed.map((title) => `step changed: ${title}`),
    ...reordered.map((title) => `step moved: ${title}`),
  ];
}

/** What differs between two changes of one path, one line each. */
function fileChangeDetails(previous: FileChange, change: FileChange): string[] {
  return [
    ...(previous.action === change.action ? [] : [`${change.path}: ${previous.action} → ${change.action}`]),
    ...(previous.diff === change.diff ? [] : [`${change.path}: diff changed`]),
    ...(previous.previousPath === change.previousPath ? [] : [`${change.path}: renamed from another path`]),
  ];
}

function codeChanges(before: CodeChangesContent, after: CodeChangesContent): string[] {
  const paths = (content: CodeChangesContent) => content.changes.map((change) => change.path);
  const changed = after.changes.flatMap((change) => {
    const previous = before.changes.find((candidate) => candidate.path === change.path);
    return previous ? fileChangeDetails(previous, change) : [];
  });
  return [...listChanges('file', paths(before), paths(after)), ...changed];
}

/** A version's code changes by path (a path changed by two artifacts: the later one). */
function changesByPath(artifacts: readonly Artifact[]): Map<string, FileChange> {
  return new Map(
    artifacts.flatMap((artifact) =>
      artifact.type === 'code_changes'
        ? artifact.content.changes.map((change) => [change.path, change] as const)
        : [],
    ),
  );
}

/** The files two versions' code changes touch: added, removed, or changed (action, diff or origin). */
function fileDifferences(before: readonly Artifact[], after: readonly Artifact[]): FileDifferences {
  const old = changesByPath(before);
  const current = changesByPath(after);
  return {
    added: [...current.keys()].filter((path) => !old.has(path)),
    removed: [...old.keys()].filter((path) => !current.has(path)),
    changed: [...current].flatMap(([path, change]) => {
      const previous = old.get(path);
      return previous && fileChangeDetails(previous, change).length > 0 ? [path] : [];
    }),
  };
}

const stepsOf = (artifacts: readonly Artifact[]) =>
  artifacts.flatMap((artifact) => (artifact.type === 'implementation_steps' ? artifact.content.steps : []));

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

/** What an added or removed artifact holds, named: the summary's first line, each step, each file. */
function contents(artifact: Artifact, change: 'added' | 'removed'): string[] {
  switch (artifact.type) {
    case 'feature_plan':
      return [artifact.content.summary.split('\n')[0]!];
    case 'implementation_steps':
      return artifact.content.steps.map((step) => `step ${change}: ${step.title}`);
    case 'code_changes':
      return artifact.content.changes.map((file) => `file ${change}: ${file.path}`);
  }
}

/**
 * What changed from one version of a plan to another: its steps (all step artifacts in order) and the files
 * its code changes touch, each named; and artifact by artifact, those of each type paired by their position
 * among that type's artifacts, each pair that differs by content saying what differs.
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
      if (!previous) return [{ type, position, change: 'added', details: contents(next!, 'added') }];
      if (!next) return [{ type, position, change: 'removed', details: contents(previous, 'removed') }];
      if (isDeepStrictEqual(previous.content, next.content)) return [];
      return [{ type, position, change: 'modified', details: contentChanges(previous, next) }];
    }).flat();
  });
  return {
    from,
    to,
    changes,
    steps: stepDifferences(stepsOf(before), stepsOf(after)),
    files: fileDifferences(before, after),
  };
}
