import { domainModules } from '@huddle/composition';
import { huddleGlobalSetup } from '@huddle/db/testing';

export default huddleGlobalSetup(domainModules);
