/**
 * protoc-gen-dora: a protoc / buf plugin that generates, next to
 * protoc-gen-es's `<name>_pb.ts`, a `<name>_dora.ts` with a typed handler
 * interface, a register function, a typed client and the method names of
 * every service (SPEC §5). See docs/codegen.md.
 */
import { createEcmaScriptPlugin } from "@bufbuild/protoplugin";
import { generate } from "./generate.js";
import { parseOptions } from "./options.js";
import { version } from "./version.js";

export { version } from "./version.js";

/**
 * The plugin. Run it with `runNodeJs(protocGenDora)` (bin/protoc-gen-dora) or
 * call `protocGenDora.run(request)` with a CodeGeneratorRequest in tests.
 * Takes the standard protoplugin options (`target=ts|js|dts`,
 * `import_extension`, `js_import_style`, ...); any other option is rejected.
 * Every target is printed directly (no TypeScript compiler runs), so the
 * default `target=js+dts` works whatever TypeScript the project has.
 */
export const protocGenDora = createEcmaScriptPlugin({
  name: "protoc-gen-dora",
  version: `v${version}`,
  parseOptions,
  generateTs: generate,
  generateJs: generate,
  generateDts: generate,
});
