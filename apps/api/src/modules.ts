import type { DomainModule } from '@huddle/db';
import { pokerModule } from '@huddle/poker';

/** The domain modules this API (and the CLI) serve, in any order: dependsOn decides migration order. */
export const domainModules: DomainModule[] = [pokerModule];
