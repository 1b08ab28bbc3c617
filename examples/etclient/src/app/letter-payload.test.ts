import { afterEach, describe, expect, it, vi } from "vitest";
import { startInProcessKv, type InProcessKv } from "../test-helpers/in-process-kv.js";
import { KvCommands } from "./kv-commands.js";
import { LetterPayloadApi } from "./letter-payload.js";
import { Session } from "./session.js";

const servers: InProcessKv[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

/** A real etserver in process, reached by the generated client. */
function server(): InProcessKv {
  const started = startInProcessKv();
  servers.push(started);
  return started;
}

describe("LetterPayloadApi", () => {
  it("sends key and value as the letter repeated size times, as the original etclient does", async () => {
    const etserver = server();
    const api = new LetterPayloadApi(etserver.kv, 2000);
    const { token } = await api.login({ username: "100", password: "100" });
    const meta = { meta: { username: "100", token } };
    expect(await api.writeSecureMessage({ key: "b", value: "n" }, meta)).toMatchObject({ key: "b", value: "n" });
    const sent = etserver.sent.find((c) => c.rpc === "write")?.request ?? {};
    expect(sent["key"]).toBe("b".repeat(2000));
    expect(sent["value"]).toBe("n".repeat(2000));
    expect(await api.readSecureMessage({ key: "b" }, meta)).toMatchObject({ value: "n" });
    expect(etserver.sent.at(-1)?.request["key"]).toBe("b".repeat(2000));
  });

  it("shows a stored value that repeats one character as that character, and anything else unchanged", () => {
    const api = new LetterPayloadApi(server().kv, 3);
    expect(api.collapse("mmm")).toBe("m");
    expect(api.collapse("mmmmmmm")).toBe("m");
    expect(api.collapse("")).toBe("");
    expect(api.collapse("x")).toBe("x");
    expect(api.collapse("hello")).toBe("hello");
    expect(api.collapse("mmn")).toBe("mmn");
  });

  it("watches the letter's 2000-byte key and shows each value written there as its letter", async () => {
    const etserver = server();
    const lines: string[] = [];
    const session = new Session("100");
    const kv = new KvCommands(new LetterPayloadApi(etserver.kv, 2000), session, (line) => lines.push(line));
    await kv.login("100");
    const done = kv.watch("b", 2, new AbortController().signal);
    await vi.waitFor(() => expect(etserver.openWatches()).toBe(1));
    // Written by another client, as the wire carries them: the 2000-byte key.
    await etserver.kv.writeSecureMessage({ key: "b".repeat(2000), value: "n".repeat(2000) }, { meta: session.meta() });
    await etserver.kv.writeSecureMessage({ key: "b".repeat(2000), value: "not one letter" }, { meta: session.meta() });
    await done;
    expect(lines).toEqual(["login ok user=100", "watch b = n", "watch b = not one letter"]);
  });

  it("prints the letters in the command output while 2000-byte payloads travel", async () => {
    const etserver = server();
    const lines: string[] = [];
    const kv = new KvCommands(new LetterPayloadApi(etserver.kv, 2000), new Session("100"), (line) => lines.push(line));
    await kv.login("100");
    await kv.write("b", "n");
    await kv.read("b");
    expect(lines).toEqual(["login ok user=100", "write b = n", "read b = n"]);
    expect(etserver.sent.filter((c) => c.rpc !== "login").every((c) => c.request["key"]?.length === 2000)).toBe(true);
  });

  it("refuses a size below 1", () => {
    expect(() => new LetterPayloadApi(server().kv, 0)).toThrow(RangeError);
  });
});
