import type { Dictionary, EntityManager, SeedContext } from '@huddle/db';
import { Seeder } from '@huddle/db';

export class PlannerRealisticSeeder extends Seeder<SeedContext & Dictionary> {
  async run(_em: EntityManager): Promise<void> {}
}
