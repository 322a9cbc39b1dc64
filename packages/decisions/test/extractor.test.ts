import { describe, expect, it } from 'vitest';
import { ruleBasedExtractor } from '../src/extraction/extractor.ts';

const extract = (content: string) =>
  ruleBasedExtractor.extract({ title: 'Meeting', content, participants: [] });

describe('the rule-based extractor', () => {
  it('proposes an explicit "Decision:" line with high confidence, and its rationale', async () => {
    const [decision, ...rest] = await extract(
      'Ann: Welcome everyone.\nDecision: adopt PostgreSQL 15 for the ledger because it has the best tooling.\nBob: +1\n',
    );
    expect(rest).toEqual([]);
    expect(decision).toEqual({
      title: 'Adopt PostgreSQL 15 for the ledger',
      statement: 'Decision: adopt PostgreSQL 15 for the ledger because it has the best tooling.',
      rationale: 'It has the best tooling',
      confidence: 0.95,
      consensus: { for: ['Bob'], against: [], abstain: [] },
    });
  });

  it('scores confidence by explicitness: decided > agreed > let’s go with', async () => {
    const found = await extract(
      [
        'Ann: We decided to move the release to Thursday.',
        'Bob: Everyone agreed to freeze the API on Monday.',
        "Cem: Let's go with the blue theme.",
      ].join('\n'),
    );
    expect(found.map((decision) => [decision.title, decision.confidence])).toEqual([
      ['Move the release to Thursday', 0.9],
      ['Freeze the API on Monday', 0.85],
      ['The blue theme', 0.75],
    ]);
    expect(found.map((decision) => decision.consensus.for)).toEqual([['Ann'], ['Bob'], ['Cem']]);
  });

  it('collects agreement, objections and abstentions, and lowers confidence per objection', async () => {
    const [decision] = await extract(
      [
        'Dana: We have decided to replace the cron jobs with a queue.',
        'Eli: Sounds good to me.',
        'Fay: I disagree, the queue adds an operational burden.',
        'Gus: I abstain on this one.',
        'Hal: I object as well.',
        'Eli: Also, lunch is at noon.',
      ].join('\n'),
    );
    expect(decision?.consensus).toEqual({ for: ['Dana', 'Eli'], against: ['Fay', 'Hal'], abstain: ['Gus'] });
    expect(decision?.confidence).toBe(0.7);
  });

  it('does not propose questions, negations, conditionals or mere suggestions', async () => {
    const found = await extract(
      [
        'Ann: Should we decide to drop IE support?',
        "Bob: We haven't decided on the pricing yet.",
        'Cem: There was no decision about hiring.',
        'Dan: If we agreed to ship early, QA would suffer.',
        'Eve: We should probably look into caching.',
        'Fin: I think we could go with either option.',
      ].join('\n'),
    );
    expect(found).toEqual([]);
  });

  it('finds several decisions in one utterance and attributes answers to the latest', async () => {
    const found = await extract(
      'Ann: We decided to use Rust for the parser. We also agreed to keep Go for the API.\nBob: I agree.\n',
    );
    expect(found.map((decision) => decision.title)).toEqual([
      'Use Rust for the parser',
      'Keep Go for the API',
    ]);
    expect(found.map((decision) => decision.consensus.for)).toEqual([['Ann'], ['Ann', 'Bob']]);
  });
});
