import { huddleGlobalSetup } from '@huddle/db/testing';
import { decisionsModule } from '../src/module.ts';

export default huddleGlobalSetup([decisionsModule]);
