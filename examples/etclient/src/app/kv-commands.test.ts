import { Code, createInProcessClient, createServer, DoraError } from "@dora/runtime";
import { createKvServiceClient, registerKvService } from "@dora/tiger/kv/v1";
import { afterEach, describe, expect, it, vi } from "vitest";
import { startInProcessKv, type InProcessKv } from "../test-helpers/in-process-kv.js";
import { CommandFailure } from "./command-failure.js";
import { KvCommands } from "./kv-commands.js";
import { runCommands } from "./run-commands.js";
import { Session } from "./session.js";

const servers: InProcessKv[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

/** The commands of `user` against a real etserver in process. */
function setup(user = "100") {
  const server = startInProcessKv();
  servers.push(server);
  const lines: string[] = [];
  const session = new Session(user);
  return { server, lines, session, kv: new KvCommands(server.kv, session, (line) => lines.push(line)) };
}

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("KvCommands", () => {
  it("login stores the token and prints the user, never the token", async () => {
    const { kv, lines, session } = setup();
    await kv.login("100");
    expect(lines).toEqual(["login ok user=100"]);
    expect(session.loggedIn).toBe(true);
    expect(session.meta()["token"]).toMatch(UUID_V4);
  });

  it("reports a wrong password as the business status, in words", async () => {
    const { kv, session } = setup();
    await expect(kv.login("wrong")).rejects.toThrow(new CommandFailure("login", "incorrect username or password"));
    expect(session.loggedIn).toBe(false);
  });

  it("sends username and an empty token before a login, and names the server's code", async () => {
    const { kv, server } = setup();
    await expect(kv.read("a")).rejects.toThrow("read failed: Unauthenticated: invalid or expired token");
    await expect(kv.write("a", "m")).rejects.toThrow("write failed: Unauthenticated: invalid or expired token");
    expect(server.sent.map((c) => c.meta)).toEqual([
      { username: "100", token: "" },
      { username: "100", token: "" },
    ]);
  });

  it("prints a missing key without failing, then the written value", async () => {
    const { kv, lines } = setup();
    await kv.login("100");
    await kv.read("b");
    await kv.write("b", "n");
    await kv.read("b");
    expect(lines).toEqual(["login ok user=100", "read b: key does not exist", "write b = n", "read b = n"]);
  });

  it("describes a transport failure by its dora code", async () => {
    const { kv, server } = setup();
    server.failCalls(new DoraError(Code.Unavailable, "connect ECONNREFUSED 127.0.0.1:1"));
    await expect(kv.read("a")).rejects.toThrow("read failed: Unavailable: connect ECONNREFUSED 127.0.0.1:1");
  });
});

describe("KvCommands.watch", () => {
  /** The commands of user 100, logged in, against an in-process etserver with `overrides`. */
  async function watching(overrides: Parameters<typeof startInProcessKv>[0] = {}) {
    const server = startInProcessKv(overrides);
    servers.push(server);
    const lines: string[] = [];
    const session = new Session("100");
    const kv = new KvCommands(server.kv, session, (line) => lines.push(line));
    await kv.login("100");
    /** Resolves once the server holds `count` watches, so that later writes reach them. */
    const open = (count: number) => vi.waitFor(() => expect(server.openWatches()).toBe(count));
    const write = (key: string, value: string) => server.kv.writeSecureMessage({ key, value }, { meta: session.meta() });
    return { server, kv, lines, open, write };
  }

  it("prints each value written to the key, in order, and stops after --count values, ending the watch", async () => {
    const { server, kv, lines, open, write } = await watching();
    const done = kv.watch("b", 2, new AbortController().signal);
    await open(1);
    for (const [key, value] of [["c", "x"], ["b", "m"], ["b", "n"], ["b", "o"]] as const) await write(key, value);
    await done;
    expect(lines).toEqual(["login ok user=100", "watch b = m", "watch b = n"]);
    await vi.waitFor(() => expect(server.openWatches()).toBe(0));
  });

  it("ends quietly when interrupted, and the server drops the watch", async () => {
    const { server, kv, lines, open } = await watching();
    const interrupt = new AbortController();
    const done = kv.watch("b", undefined, interrupt.signal);
    await open(1);
    interrupt.abort();
    await expect(done).resolves.toBeUndefined();
    expect(lines).toEqual(["login ok user=100"]);
    await vi.waitFor(() => expect(server.openWatches()).toBe(0));
  });

  it("fails naming the server's code: a watch refused beyond a bound, and one ended by a shutdown", async () => {
    const { server, kv, open } = await watching({ watch: { maxPerUser: 1 } });
    const first = kv.watch("b", undefined, new AbortController().signal);
    await open(1);
    await expect(kv.watch("c", 1, new AbortController().signal)).rejects.toThrow("watch failed: ResourceExhausted: too many watches of this user (at most 1)");
    await server.stopServer();
    await expect(first).rejects.toThrow("watch failed: Unavailable: server shutting down");
  });

  it("names the server's refusal of a watch before a login", async () => {
    const server = startInProcessKv();
    servers.push(server);
    const kv = new KvCommands(server.kv, new Session("100"), () => undefined);
    await expect(kv.watch("b", 1, new AbortController().signal)).rejects.toThrow("watch failed: Unauthenticated: invalid or expired token");
  });

  it("fails when a server ends the watch by itself, before --count values", async () => {
    // etserver never does; another implementation of the service may.
    const server = createServer();
    const unused = () => Promise.reject(new DoraError(Code.Unimplemented, "not used"));
    registerKvService(server, {
      login: () => Promise.resolve({ token: "t" }),
      readSecureMessage: unused,
      writeSecureMessage: unused,
      async *watchSecureMessage(request) {
        yield { key: request.key, value: "only" };
      },
    });
    const client = createInProcessClient(server);
    try {
      const lines: string[] = [];
      const kv = new KvCommands(createKvServiceClient(client), new Session("100"), (line) => lines.push(line));
      await expect(kv.watch("b", 2, new AbortController().signal)).rejects.toThrow(new CommandFailure("watch", "the server ended the watch"));
      expect(lines).toEqual(["watch b = only"]);
    } finally {
      await client.close();
      await server.close();
    }
  });
});

describe("runCommands", () => {
  it("runs left to right sharing the session", async () => {
    const { kv, lines, server } = setup();
    await runCommands(["login", "write", "read"], { password: "100", key: "b", value: "n" }, kv);
    expect(lines).toEqual(["login ok user=100", "write b = n", "read b = n"]);
    expect(server.sent[2]?.meta["token"]).toBe(server.sent[1]?.meta["token"]);
    expect(server.sent[1]?.meta["token"]).not.toBe("");
  });

  it("stops at the first failure", async () => {
    const { kv, lines, server } = setup();
    await expect(runCommands(["write", "read", "login"], { password: "100", key: "a", value: "m" }, kv)).rejects.toThrow("write failed");
    expect(lines).toEqual([]);
    expect(server.sent.map((c) => c.rpc)).toEqual(["write"]);
  });
});
