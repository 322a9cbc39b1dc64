import type { DomainModule } from '@huddle/db';

/** The domain modules this API serves, in any order (dependsOn decides migration order). */
export const domainModules: DomainModule[] = [];
