/**
 * protoc-gen-dora: a protoc / buf plugin that generates, next to
 * protoc-gen-es's `<name>_pb.ts`, a `<name>_dora.ts` with a typed handler
 * interface, a register function, a typed client and the method names of
 * every service (SPEC §5). See docs/codegen.md.
 */
import { createEcmaScriptPlugin } from "@bufbuild/protoplugin";
import { generateTs } from "./generate-ts.js";
import { parseOptions } from "./options.js";
import { version } from "./version.js";

export { version } from "./version.js";

/**
 * The plugin. Run it with `runNodeJs(protocGenDora)` (bin/protoc-gen-dora) or
 * call `protocGenDora.run(request)` with a CodeGeneratorRequest in tests.
 * Takes the standard protoplugin options (`target=ts|js|dts`,
 * `import_extension`, `js_import_style`, ...); any other option is rejected.
 */
export const protocGenDora = createEcmaScriptPlugin({
  name: "protoc-gen-dora",
  version: `v${version}`,
  parseOptions,
  generateTs,
});
