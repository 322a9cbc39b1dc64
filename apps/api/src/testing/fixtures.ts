import {
  type Database,
  type DomainModule,
  type FuzzFixtureGeneration,
  inRequestScope,
  type ModuleFuzzFixtures,
  ModuleResources,
} from '@huddle/db';

/**
 * Real rows for the fuzz harness to name, from every composed module's fixtures (`DomainModule.fuzz`): a
 * valid id is too sparse to guess, so without them the harness tests input validation, not the procedures.
 * `values` maps an input field name to values that exist (ids, names, paths), which a share of the cases
 * put in their inputs (see SeenValues in fuzz.ts).
 */
export interface FuzzFixtures {
  values: Record<string, unknown[]>;
  /** Token subjects the harness tries first, by module (ModuleFuzzFixtures.subjects). */
  subjects: Record<string, string[]>;
  /** Inputs known to be accepted from the harness's first token, by procedure path (Examples in fuzz.ts). */
  examples: Record<string, unknown[]>;
  /**
   * Creates another generation of the rows calls use up, in every module that has fixtures, and answers
   * their values, newest last, and examples (FuzzOptions.refresh).
   */
  refresh(): Promise<FuzzFixtureGeneration>;
  /** Tables a refused call may still change, by procedure path (ModuleFuzzFixtures.usedUpWhenRefused). */
  usedUpWhenRefused: Record<string, string[]>;
  /** The composed modules' resources for the fuzz server: the environment's, or the fixtures' own. */
  moduleResources: ModuleResources;
  /** Removes what the modules' fixtures made outside the database. */
  remove(): Promise<void>;
}

/** Values of rows that exist, by the input field names that take them (SeenValues in fuzz.ts), newest last. */
type FixtureValues = Record<string, unknown[]>;

/** Appends `more` to `values`, field by field (or procedure by procedure). */
function mergeValues(values: FixtureValues, more: FixtureValues): FixtureValues {
  for (const [field, list] of Object.entries(more)) values[field] = [...(values[field] ?? []), ...list];
  return values;
}

/** Appends `more`'s values and examples to `generation`'s. */
function mergeGeneration(generation: FuzzFixtureGeneration, more: FuzzFixtureGeneration): void {
  mergeValues(generation.values, more.values);
  mergeValues(generation.examples, more.examples);
}

/**
 * Creates every composed module's fixtures in `db` (seeded already: the other rows come from the seed) and
 * collects the values of the modules' rows; `refresh` creates another generation of the rows calls use up.
 */
export async function createFuzzFixtures(db: Database): Promise<FuzzFixtures> {
  const modules: { module: DomainModule; fixtures: ModuleFuzzFixtures }[] = [];
  for (const module of db.modules) if (module.fuzz) modules.push({ module, fixtures: await module.fuzz(db) });
  let generation = 0;
  /** One generation of the rows calls use up, in every module that has fixtures. */
  const createGeneration = async (): Promise<FuzzFixtureGeneration> => {
    const created: FuzzFixtureGeneration = { values: {}, examples: {} };
    for (const { fixtures } of modules) mergeGeneration(created, await fixtures.generation(generation));
    generation++;
    return created;
  };
  const first = await createGeneration();
  const values: FixtureValues = {};
  for (const { fixtures } of modules) mergeValues(values, fixtures.values ?? {});
  // `auth.*` calls name the module whose token they carry.
  values.module = db.modules.filter((module) => module.actor).map((module) => module.name);
  // `auth.sessions.revokeUser` for subjects that exist in no module: the pool's users keep their sessions.
  values.subject = ['2147483647', 'fuzz-nobody'];
  for (const source of modules.flatMap(({ fixtures }) => fixtures.sources ?? [])) {
    const rows = await inRequestScope(db.orm, (em) => em.execute<{ id: unknown }[]>(source.sql));
    mergeValues(values, Object.fromEntries(source.fields.map((field) => [field, rows.map((row) => row.id)])));
  }
  // The first generation's rows once more, last: the seed's rows of the same name come before them.
  mergeValues(values, first.values);
  let moduleResources = await ModuleResources.fromEnv(db.modules, {});
  for (const { module, fixtures } of modules)
    if (fixtures.resources !== undefined) moduleResources = moduleResources.with(module, fixtures.resources);
  return {
    values,
    examples: first.examples,
    subjects: Object.fromEntries(
      modules.flatMap(({ module, fixtures }) =>
        fixtures.subjects ? [[module.name, fixtures.subjects]] : [],
      ),
    ),
    usedUpWhenRefused: Object.fromEntries(
      modules.flatMap(({ fixtures }) => Object.entries(fixtures.usedUpWhenRefused ?? {})),
    ),
    moduleResources,
    refresh: createGeneration,
    remove: async () => {
      for (const { fixtures } of modules) await fixtures.remove?.();
    },
  };
}
