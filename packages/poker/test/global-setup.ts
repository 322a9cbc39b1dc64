import { huddleGlobalSetup } from '@huddle/testing';
import { pokerModule } from '../src/module.ts';

export default huddleGlobalSetup([pokerModule]);
