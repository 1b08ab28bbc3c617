import type { KvCommandName } from "../app/run-commands.js";

export type { KvCommandName };

/** The rpc a benchmark measures. */
export type BenchmarkMethodName = "read" | "write";

/** Connection flags; absent ones fall back to config.yaml, then the environment, then defaults. */
export interface ConnectionFlags {
  /** `--address HOST:PORT`. */
  readonly address: string | undefined;
  /** `--tls` / `--no-tls`; undefined when not given (config `server.enableTls` decides). */
  readonly tls: boolean | undefined;
  /** `--cert-file`: PEM client certificate for mutual TLS. */
  readonly certFile: string | undefined;
  /** `--key-file`: PEM client private key for mutual TLS. */
  readonly keyFile: string | undefined;
  /** `--ca-file`: PEM CA that signs the server certificate. */
  readonly caFile: string | undefined;
  /** `--timeout-ms`: per-call timeout in milliseconds. Default 5000. */
  readonly timeoutMs: number;
  /** `--bare-method-names`: a dora v2 Go server: send `Login` instead of `/kv.v1.KvService/Login`, and keep to 64 KiB frames. */
  readonly bareMethodNames: boolean;
  /** `--config FILE`: config.yaml to read instead of the one next to the executable or in the cwd. */
  readonly configFile: string | undefined;
}

/** The account and the key/value the commands act on. */
export interface Credentials {
  /** `-u --user`. Default "1". */
  readonly user: string;
  /** `-p --password`. Default "1". */
  readonly password: string;
  /** `-k --key`: one letter a–z. Default "a". */
  readonly key: string;
  /** `-v --value`: one letter a–z. Default "a". */
  readonly value: string;
  /** `--size`: bytes of key and value on the wire, the letter repeated (SPEC §7). Default 2000. */
  readonly size: number;
}

/** `etclient login,read …`: commands run left to right, sharing one session. */
export interface CommandsInvocation extends Credentials {
  readonly kind: "commands";
  readonly commands: readonly KvCommandName[];
  readonly connection: ConnectionFlags;
}

/** `etclient benchmark read|write …`. */
export interface BenchmarkInvocation extends Credentials {
  readonly kind: "benchmark";
  readonly method: BenchmarkMethodName;
  /** `-c --concurrency`: workers. Default 1. */
  readonly concurrency: number;
  /** `-r --requests`: requests per worker (default 1); undefined when `--duration` is given. */
  readonly requests: number | undefined;
  /** `--duration S`: run each worker for this many seconds instead of a request count. */
  readonly durationSeconds: number | undefined;
  /** `--json`: print only the report object, as one line. */
  readonly json: boolean;
  readonly connection: ConnectionFlags;
}

/** `etclient watch …`: log in, then print each value written to the key. */
export interface WatchInvocation extends Credentials {
  readonly kind: "watch";
  /** `--count N`: stop after N values; undefined: until interrupted. */
  readonly count: number | undefined;
  readonly connection: ConnectionFlags;
}

/** What the command line asks for. */
export type Invocation = CommandsInvocation | BenchmarkInvocation | WatchInvocation;

/** The outcome of parsing: something to run, help to print (exit 0), or a usage error (exit 2). */
export type ParseOutcome =
  | { readonly kind: "run"; readonly invocation: Invocation }
  | { readonly kind: "help"; readonly text: string }
  | {
      readonly kind: "usage-error";
      readonly message: string;
      /** The command whose help to point to (`login`, `benchmark read`; "" for `etclient --help`). */
      readonly helpCommand: string;
    };
