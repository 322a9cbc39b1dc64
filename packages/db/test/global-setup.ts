import { huddleGlobalSetup } from '../../testing/src/index.ts';
import { libraryModule } from './fixtures/library.ts';
import { reviewsModule } from './fixtures/reviews.ts';

export default huddleGlobalSetup([libraryModule, reviewsModule]);
