import { spawn, type ChildProcess } from "node:child_process";

/** Environment for the processes the harness starts: its own, less the variables that would reconfigure etserver or etclient. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith("ETSERVER_") && !name.startsWith("ETCLIENT_") && name !== "NODE_OPTIONS") env[name] = value;
  }
  return { ...env, ...extra };
}

/** Every process started here that has not exited yet. */
const live = new Set<ChildProcess>();

function track(child: ChildProcess): ChildProcess {
  live.add(child);
  child.once("exit", () => live.delete(child));
  return child;
}

/** Kills (SIGKILL) every process started here that is still running: for when the harness itself is interrupted. */
export function killAll(): void {
  for (const child of live) child.kill("SIGKILL");
  live.clear();
}

/** The tail of a process's output kept for error messages. */
const TAIL_BYTES = 2000;

function tail(text: string): string {
  return text.length > TAIL_BYTES ? `…${text.slice(-TAIL_BYTES)}` : text;
}

/** A server process that printed its listening line. */
export interface ServerProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** `host:port` from its listening line. */
  readonly address: string;
  /** What it wrote to stderr so far (the tail). */
  stderr(): string;
}

/**
 * Starts a server process and resolves once it prints a line containing
 * `listening on HOST:PORT`; rejects with its stderr if it exits first or
 * prints nothing within `timeoutMs`.
 */
export function startServer(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number }): Promise<ServerProcess> {
  const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ["ignore", "pipe", "pipe"] });
  track(child);
  let stdout = "";
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (text: string) => (stderr = tail(stderr + text)));
  return new Promise<ServerProcess>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`server did not print its listening line within ${options.timeoutMs} ms: ${stderr.trim()}`));
    }, options.timeoutMs);
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
      clearTimeout(timer);
      reject(new Error(`server exited (${signal ?? `code ${code}`}) before listening: ${stderr.trim() || stdout.trim()}`));
    };
    child.once("exit", onExit);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.stdout.setEncoding("utf8").on("data", (text: string) => {
      stdout = tail(stdout + text);
      const match = /listening on (\S+:\d+)/.exec(stdout);
      if (match === null || child.pid === undefined) return;
      clearTimeout(timer);
      child.off("exit", onExit);
      child.stdout.removeAllListeners("data");
      child.stdout.resume();
      resolve({ child, pid: child.pid, address: match[1]!, stderr: () => stderr });
    });
  });
}

/** Sends SIGTERM and waits for the exit; SIGKILL after `graceMs`. */
export function stopServer(server: ServerProcess, graceMs = 10_000): Promise<void> {
  const { child } = server;
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/** Output of a finished process. */
export interface ProcessOutput {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a process to its end (killing it after `timeoutMs`) and returns its output. */
export function runProcess(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number }): Promise<ProcessOutput> {
  return new Promise<ProcessOutput>((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ["ignore", "pipe", "pipe"] });
    track(child);
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (text: string) => (stdout += text));
    child.stderr.setEncoding("utf8").on("data", (text: string) => (stderr = tail(stderr + text)));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Throws with the process's stderr unless it exited 0. */
export function expectSuccess(what: string, output: ProcessOutput): ProcessOutput {
  if (output.code !== 0) {
    const reason = output.signal !== null ? `killed by ${output.signal}` : `exit code ${output.code}`;
    throw new Error(`${what} failed (${reason}): ${(output.stderr.trim() || output.stdout.trim()).split("\n").slice(-3).join(" | ")}`);
  }
  return output;
}
