import { huddleGlobalSetup } from '@huddle/db/testing';
import { plannerModule } from '../src/module.ts';

export default huddleGlobalSetup([plannerModule]);
