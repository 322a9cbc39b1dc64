import { checkIn, createdAt, defineEntity, p } from '@huddle/db';
import { RELATIONSHIP_KINDS, type RelationshipKind } from '../schemas.ts';
import { DecisionsDecision } from './decision.ts';
import { DecisionsUser } from './user.ts';

/** decisions.decision_relationships: typed links between decisions (supersedes, amends, depends on…). */
const DecisionsRelationshipSchema = defineEntity({
  name: 'DecisionsRelationship',
  tableName: 'decision_relationships',
  properties: {
    id: p.integer().primary().autoincrement(),
    // The unique (from, to, kind) leads with from_decision_id, so it also covers that foreign key.
    fromDecision: () => p.manyToOne(DecisionsDecision).ref().deleteRule('cascade'),
    toDecision: () =>
      p.manyToOne(DecisionsDecision).ref().deleteRule('cascade').index('idx_decision_relationships_to'),
    kind: p.string().length(20).$type<RelationshipKind>(),
    createdBy: () =>
      p
        .manyToOne(DecisionsUser)
        .ref()
        .fieldName('created_by')
        .nullable()
        .deleteRule('set null')
        .index('idx_decision_relationships_created_by'),
    createdAt: createdAt(),
  },
  // The name PostgreSQL gives the spec's unnamed `unique (from_decision_id, to_decision_id, kind)`.
  uniques: [
    {
      name: 'decision_relationships_from_decision_id_to_decision_id_kind_key',
      properties: ['fromDecision', 'toDecision', 'kind'],
    },
  ],
  checks: [
    checkIn('decision_relationships_kind_check', 'kind', RELATIONSHIP_KINDS),
    { name: 'decision_relationships_not_self', expression: 'from_decision_id <> to_decision_id' },
  ],
});
export class DecisionsRelationship extends DecisionsRelationshipSchema.class {}
DecisionsRelationshipSchema.setClass(DecisionsRelationship);
