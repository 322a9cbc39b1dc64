import { archive, softDelete } from '@huddle/db';

/**
 * `softDelete.filters` / `archive.filters` from `@huddle/db` with the `name` MikroORM 7.2's `FilterDef` type
 * requires (the shared definitions lack it, so they do not type-check on an entity as they are).
 */
export const notDeletedFilter = {
  [softDelete.filter]: { name: softDelete.filter, ...softDelete.filters.notDeleted },
};
export const notArchivedFilter = {
  [archive.filter]: { name: archive.filter, ...archive.filters.notArchived },
};

/** Find options that include soft-deleted rows. */
export const softDeleted = { filters: { [softDelete.filter]: false } } as const;
