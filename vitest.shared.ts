/**
 * Settings both vitest configs share. graphql 16 ships CJS (index.js) and ESM (index.mjs) copies;
 * Node resolves every `import 'graphql'` to the CJS one, but Vite would pick the ESM one for our
 * sources, giving two GraphQLError classes in one process. Pin Vite to Node's choice.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export const resolve = { alias: { graphql: require.resolve('graphql') } };
