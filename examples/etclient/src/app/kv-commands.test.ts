import { Code, DoraError } from "@dora/runtime";
import { afterEach, describe, expect, it } from "vitest";
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
