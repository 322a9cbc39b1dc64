import { huddleGlobalSetup } from '@huddle/db/testing';
import { scrumModule } from '../src/module.ts';

export default huddleGlobalSetup([scrumModule]);
