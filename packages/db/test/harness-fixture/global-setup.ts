import { huddleGlobalSetup } from '../../src/testing/index.ts';
import { libraryModule } from '../fixtures/library.ts';

export default huddleGlobalSetup([libraryModule]);
