import { huddleGlobalSetup } from '@huddle/testing';
import { scrumModule } from '../src/module.ts';

export default huddleGlobalSetup([scrumModule]);
