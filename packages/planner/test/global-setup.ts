import { huddleGlobalSetup } from '@huddle/testing';
import { plannerModule } from '../src/module.ts';

export default huddleGlobalSetup([plannerModule]);
