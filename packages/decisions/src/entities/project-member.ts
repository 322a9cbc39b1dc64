import { checkIn, createdAt, defineEntity, p } from '@huddle/db';
import { PROJECT_ROLES, type ProjectRole } from '../schemas.ts';
import { DecisionsProject } from './project.ts';
import { DecisionsUser } from './user.ts';

/** decisions.project_members: who may see a project, and what they may do in it. */
const DecisionsProjectMemberSchema = defineEntity({
  name: 'DecisionsProjectMember',
  tableName: 'project_members',
  properties: {
    // The primary key leads with project_id, so it also covers that foreign key.
    project: () => p.manyToOne(DecisionsProject).ref().primary().deleteRule('cascade'),
    user: () =>
      p.manyToOne(DecisionsUser).ref().primary().deleteRule('cascade').index('idx_project_members_user'),
    role: p.string().length(20).$type<ProjectRole>().default('member'),
    joinedAt: createdAt(),
  },
  checks: [checkIn('project_members_role_check', 'role', PROJECT_ROLES)],
});
export class DecisionsProjectMember extends DecisionsProjectMemberSchema.class {}
DecisionsProjectMemberSchema.setClass(DecisionsProjectMember);
