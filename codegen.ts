/**
 * Typed operations for the tests, generated from schema.graphql and test/graphql/*.graphql, and the
 * client preset's trusted documents (`persisted-documents.json`: sha256 id → document), the file a
 * web app built with GraphQL Code Generator hands the gateway as GRAPHQL_PERSISTED_DOCUMENTS.
 */
import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  schema: 'schema.graphql',
  documents: 'test/graphql/**/*.graphql',
  generates: {
    'test/generated/graphql.ts': {
      plugins: ['typescript-operations', 'typed-document-node'],
      config: { useTypeImports: true, enumsAsTypes: true, scalars: { JSON: 'unknown' }, avoidOptionals: false },
    },
    'test/generated/client/': {
      preset: 'client',
      presetConfig: { persistedDocuments: { hashAlgorithm: 'sha256' }, fragmentMasking: false },
      config: { useTypeImports: true, enumsAsTypes: true, scalars: { JSON: 'unknown' } },
    },
  },
  // ESM: relative imports in generated code carry their .js extension.
  emitLegacyCommonJSImports: false,
  hooks: {},
};

export default config;
