import { huddleGlobalSetup } from '@huddle/db/testing';
import { pokerModule } from '../src/module.ts';

export default huddleGlobalSetup([pokerModule]);
