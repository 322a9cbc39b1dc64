import { defineEntity, p } from '@huddle/db';

/** poker.users: the temporary identity of everyone taking part in planning poker. */
const PokerUserSchema = defineEntity({
  name: 'PokerUser',
  tableName: 'users',
  schema: 'poker',
  properties: {
    id: p.integer().primary().autoincrement(),
    name: p.string().length(100),
    email: p.string().length(255).nullable().unique('users_email_unique'),
    createdAt: p.datetime().columnType('timestamptz').defaultRaw('current_timestamp'),
    lastActive: p.datetime().columnType('timestamptz').defaultRaw('current_timestamp'),
  },
});
export class PokerUser extends PokerUserSchema.class {}
PokerUserSchema.setClass(PokerUser);
