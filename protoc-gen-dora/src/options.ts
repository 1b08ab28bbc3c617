/**
 * Options of protoc-gen-dora beyond protoplugin's standard ones. There are
 * none yet: `target`, `import_extension`, `js_import_style`, `rewrite_imports`,
 * `import_map`, `keep_empty_files`, `ts_nocheck`, `bootstrap_wkt` and
 * `elide_plugin_version` are parsed by protoplugin itself.
 */
export type DoraPluginOptions = Record<never, never>;

/**
 * Parses the plugin options that protoplugin does not know itself. Every such
 * option is unknown to protoc-gen-dora, so any of them is an error that names
 * all of them (protoplugin prefixes `invalid option "<raw>"`). Internal:
 * passed to createEcmaScriptPlugin in index.ts.
 *
 * @throws Error when `rawOptions` is not empty.
 */
export function parseOptions(rawOptions: readonly { key: string; value: string }[]): DoraPluginOptions {
  if (rawOptions.length > 0) {
    const names = rawOptions.map((o) => o.key).join(", ");
    throw new Error(
      `unknown option${rawOptions.length > 1 ? "s" : ""} ${names}; protoc-gen-dora takes only the standard protoplugin options (target, import_extension, js_import_style, rewrite_imports, keep_empty_files, ts_nocheck)`,
    );
  }
  return {};
}
