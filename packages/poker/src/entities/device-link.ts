import { createdAt, defineEntity, p, timestamptz } from '@huddle/db';
import { PokerUser } from './user.ts';

/**
 * poker.device_links (beyond the seed): how a player who joined with an email signs in on another device,
 * with no mail server to prove the email. On a device where they are signed in they make a link, and type its
 * code into `poker.join` on the new one. Only the code's SHA-256 is stored; joining with it deletes the row
 * (single use), and a player has at most one (a new one replaces the last).
 */
const PokerDeviceLinkSchema = defineEntity({
  name: 'PokerDeviceLink',
  tableName: 'device_links',
  properties: {
    id: p.integer().primary().autoincrement(),
    user: () => p.manyToOne(PokerUser).ref().deleteRule('cascade').unique('device_links_user_id_unique'),
    codeHash: p.string().length(64).unique('device_links_code_hash_unique'),
    createdAt: createdAt(),
    expiresAt: timestamptz(),
  },
});
export class PokerDeviceLink extends PokerDeviceLinkSchema.class {}
PokerDeviceLinkSchema.setClass(PokerDeviceLink);
