import { huddleGlobalSetup } from '@huddle/testing';
import { decisionsModule } from '../src/module.ts';

export default huddleGlobalSetup([decisionsModule]);
