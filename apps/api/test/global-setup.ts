import { huddleGlobalSetup } from '@huddle/db/testing';
import { domainModules } from '../src/modules.ts';

export default huddleGlobalSetup(domainModules);
