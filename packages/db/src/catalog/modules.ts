import type { Database } from '../database.ts';
import { ConfigurationError } from '../errors.ts';
import type { DomainModule } from '../module.ts';

/** The composed modules named in `names` (all of them without names); an unknown name is one clear error. */
export function selectModules(db: Database, names: readonly string[] | undefined): DomainModule[] {
  if (!names || names.length === 0) return [...db.modules];
  const known = db.modules.map((module) => module.name);
  const unknown = names.find((name) => !known.includes(name));
  if (unknown) {
    throw new ConfigurationError(`module: unknown module "${unknown}" (known: ${known.join(', ')})`);
  }
  return db.modules.filter((module) => names.includes(module.name));
}
