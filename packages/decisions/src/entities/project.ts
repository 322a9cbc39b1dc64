import { archive, defineEntity, p, softDelete, timestamps, touchUpdatedAt } from '@huddle/db';
import { DecisionsUser } from './user.ts';

/**
 * decisions.projects: where transcripts and decisions live. A live project's name is unique among its
 * creator's live projects (any case); archived projects free their name.
 */
const DecisionsProjectSchema = defineEntity({
  name: 'DecisionsProject',
  tableName: 'projects',
  properties: {
    id: p.integer().primary().autoincrement(),
    name: p.string().length(200),
    description: p.text().nullable(),
    // A project whose creator was soft-deleted is still a project (without this, MikroORM would apply the
    // users' soft-delete filter to every find of a project).
    createdBy: () =>
      p
        .manyToOne(DecisionsUser)
        .ref()
        .fieldName('created_by')
        .deleteRule('restrict')
        .index('idx_projects_created_by')
        .filters({ [softDelete.filter]: false }),
    ...timestamps(),
    archivedAt: archive.property(),
  },
  indexes: [
    {
      // Per creator, not across all users: a name another user's project holds is no conflict, so creating a
      // project never reveals the names of projects the caller is not a member of.
      name: 'projects_name_live_unique',
      expression:
        'create unique index "projects_name_live_unique" on "decisions"."projects" ("created_by", lower("name")) where "archived_at" is null',
    },
  ],
  triggers: [touchUpdatedAt],
  filters: archive.filters,
});
export class DecisionsProject extends DecisionsProjectSchema.class {}
DecisionsProjectSchema.setClass(DecisionsProject);
