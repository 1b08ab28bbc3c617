/** A configuration that cannot be used. Its message is one line naming the key (or file) and its source. */
export class ConfigError extends Error {
  override name = "ConfigError";
}
