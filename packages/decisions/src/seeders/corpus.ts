import type { SeededRandom } from '@huddle/db';

/**
 * Words for sample decisions: a verb, a subject and a context make a title; the realistic seeder and the
 * similarity tests draw from them, so neighbours share wording the way real decisions on one topic do.
 */
const VERBS = [
  'Adopt',
  'Replace',
  'Deprecate',
  'Migrate',
  'Introduce',
  'Standardise on',
  'Retire',
  'Split',
  'Merge',
  'Cache',
  'Encrypt',
  'Version',
  'Document',
  'Automate',
  'Monitor',
  'Shard',
  'Rate-limit',
  'Batch',
  'Stream',
  'Audit',
];
const SUBJECTS = [
  'PostgreSQL',
  'Redis',
  'Kafka',
  'GraphQL',
  'the REST endpoints',
  'feature flags',
  'the billing service',
  'the search index',
  'OAuth tokens',
  'the CI pipeline',
  'Docker images',
  'Terraform modules',
  'the mobile app',
  'the design system',
  'the data warehouse',
  'TypeScript',
  'Rust',
  'the event bus',
  'webhooks',
  'the admin console',
  'S3 buckets',
  'the notification service',
  'load balancers',
  'the auth gateway',
  'cron jobs',
  'the reporting API',
  'customer exports',
  'audit logs',
  'the payment provider',
  'on-call rotations',
];
const CONTEXTS = [
  'for the EU region',
  'before the Q3 launch',
  'across all teams',
  'for new services',
  'in the checkout flow',
  'for internal tools',
  'to cut latency',
  'to reduce cost',
  'for compliance',
  'during the migration',
  'for the enterprise tier',
  'in staging first',
  'behind a feature flag',
  'for the partner API',
  'on every release',
  'for batch jobs',
  'in the analytics stack',
  'for mobile clients',
  'this quarter',
  'for the public API',
];
const REASONS = [
  'it halves the operational load',
  'the current setup does not scale',
  'customers asked for it',
  'the vendor ends support next year',
  'it simplifies onboarding',
  'audits require it',
  'incidents traced back to it',
  'it saves money at our volume',
];

export interface SampleDecisionText {
  title: string;
  statement: string;
  rationale: string;
}

/** One sample decision's text, drawn from `random`. */
export function sampleDecisionText(random: SeededRandom): SampleDecisionText {
  const verb = random.pick(VERBS);
  const subject = random.pick(SUBJECTS);
  const context = random.pick(CONTEXTS);
  return {
    title: `${verb} ${subject} ${context}`,
    statement: `We will ${verb.toLowerCase()} ${subject} ${context}, starting with ${random.pick(SUBJECTS)}.`,
    rationale: `Because ${random.pick(REASONS)}.`,
  };
}
