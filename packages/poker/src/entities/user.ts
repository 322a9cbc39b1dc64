import { createdAt, defineEntity, p } from '@huddle/db';

/** poker.users: the temporary identity of everyone taking part in planning poker. */
const PokerUserSchema = defineEntity({
  name: 'PokerUser',
  tableName: 'users',
  properties: {
    id: p.integer().primary().autoincrement(),
    name: p.string().length(100),
    email: p.string().length(255).nullable().unique('users_email_unique'),
    createdAt: createdAt(),
    lastActive: createdAt(),
  },
});
export class PokerUser extends PokerUserSchema.class {}
PokerUserSchema.setClass(PokerUser);
