// Lets plain `node` run the project's TypeScript (ESM, nodenext, tsconfig path aliases) without a build:
//   node --import ./test/support/register-swc.mjs some-script.ts
// Used by the crash test's child process and by the benchmarks. It registers swc-hooks.mjs, which
// compiles each .ts file with @swc/core (decorator metadata kept, as in vitest) and resolves
// `@palimpsest/<lib>` through tsconfig.json's `paths`.
import { register } from 'node:module';

register('./swc-hooks.mjs', import.meta.url);
