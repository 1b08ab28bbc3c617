import { Code, DoraError } from "@dora/runtime";
import { describe, expect, it } from "vitest";
import { FakeKvApi } from "../test-helpers/fake-kv-api.js";
import { CommandFailure } from "./command-failure.js";
import { KvCommands } from "./kv-commands.js";
import { runCommands } from "./run-commands.js";
import { Session } from "./session.js";

function setup(user = "100") {
  const api = new FakeKvApi();
  const lines: string[] = [];
  const session = new Session(user);
  return { api, lines, session, kv: new KvCommands(api, session, (line) => lines.push(line)) };
}

describe("KvCommands", () => {
  it("login stores the token and prints the user, never the token", async () => {
    const { kv, lines, session } = setup();
    await kv.login("100");
    expect(lines).toEqual(["login ok user=100"]);
    expect(session.loggedIn).toBe(true);
    expect(session.meta()["token"]).toMatch(/^token-1-/);
  });

  it("reports a wrong password as the business status, in words", async () => {
    const { kv, session } = setup();
    await expect(kv.login("wrong")).rejects.toThrow(new CommandFailure("login", "incorrect username or password"));
    expect(session.loggedIn).toBe(false);
  });

  it("sends username and an empty token before a login, and names the server's code", async () => {
    const { kv, api } = setup();
    await expect(kv.read("a")).rejects.toThrow("read failed: Unauthenticated: invalid or expired token");
    await expect(kv.write("a", "m")).rejects.toThrow("write failed: Unauthenticated: invalid or expired token");
    expect(api.calls.map((c) => c.meta)).toEqual([
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
    const { kv, api } = setup();
    api.failCallsWith = new DoraError(Code.Unavailable, "connect ECONNREFUSED 127.0.0.1:1");
    await expect(kv.read("a")).rejects.toThrow("read failed: Unavailable: connect ECONNREFUSED 127.0.0.1:1");
  });
});

describe("KvCommands.watch", () => {
  it("prints each value written to the key, in order, and stops after --count values", async () => {
    const { kv, lines, api, session } = setup();
    await kv.login("100");
    const watching = kv.watch("b", 2, new AbortController().signal);
    expect(api.openWatches).toBe(1);
    for (const [key, value] of [["c", "x"], ["b", "m"], ["b", "n"]] as const) await api.writeSecureMessage({ key, value }, { meta: session.meta() });
    await watching;
    expect(lines).toEqual(["login ok user=100", "watch b = m", "watch b = n"]);
    expect(api.openWatches).toBe(0);
  });

  it("ends quietly when interrupted, and fails naming the code when the server ends the watch", async () => {
    const { kv, api, lines } = setup();
    await kv.login("100");
    const interrupt = new AbortController();
    const interrupted = kv.watch("b", undefined, interrupt.signal);
    interrupt.abort();
    await expect(interrupted).resolves.toBeUndefined();
    const failing = kv.watch("b", undefined, new AbortController().signal);
    api.endWatches(new DoraError(Code.ResourceExhausted, "watcher too slow: more than 64 values waiting"));
    await expect(failing).rejects.toThrow("watch failed: ResourceExhausted: watcher too slow: more than 64 values waiting");
    const ended = kv.watch("b", undefined, new AbortController().signal);
    api.endWatches();
    await expect(ended).rejects.toThrow("watch failed: the server ended the watch");
    expect(lines).toEqual(["login ok user=100"]);
  });

  it("names the server's refusal of a watch before a login", async () => {
    const { kv } = setup();
    await expect(kv.watch("b", 1, new AbortController().signal)).rejects.toThrow("watch failed: Unauthenticated: invalid or expired token");
  });
});

describe("runCommands", () => {
  it("runs left to right sharing the session", async () => {
    const { kv, lines, api } = setup();
    await runCommands(["login", "write", "read"], { password: "100", key: "b", value: "n" }, kv);
    expect(lines).toEqual(["login ok user=100", "write b = n", "read b = n"]);
    expect(api.calls[2]?.meta["token"]).toBe(api.calls[1]?.meta["token"]);
    expect(api.calls[1]?.meta["token"]).not.toBe("");
  });

  it("stops at the first failure", async () => {
    const { kv, lines, api } = setup();
    await expect(runCommands(["write", "read", "login"], { password: "100", key: "a", value: "m" }, kv)).rejects.toThrow("write failed");
    expect(lines).toEqual([]);
    expect(api.calls.map((c) => c.rpc)).toEqual(["write"]);
  });
});
