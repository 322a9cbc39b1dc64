import { huddleGlobalSetup } from '../../../testing/src/index.ts';
import { libraryModule } from '../fixtures/library.ts';

export default huddleGlobalSetup([libraryModule]);
