import { domainModules } from '@huddle/composition';
import { huddleGlobalSetup } from '@huddle/testing';

export default huddleGlobalSetup(domainModules);
