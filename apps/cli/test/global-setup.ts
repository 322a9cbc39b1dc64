import { domainModules } from '@huddle/api';
import { huddleGlobalSetup } from '@huddle/db/testing';

export default huddleGlobalSetup(domainModules);
