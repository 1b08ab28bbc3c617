import { describe, expect, it } from "vitest";
import { FakeKvApi } from "../test-helpers/fake-kv-api.js";
import { KvCommands } from "./kv-commands.js";
import { LetterPayloadApi } from "./letter-payload.js";
import { Session } from "./session.js";

describe("LetterPayloadApi", () => {
  it("sends key and value as the letter repeated size times, as the original etclient does", async () => {
    const fake = new FakeKvApi();
    const api = new LetterPayloadApi(fake, 2000);
    const { token } = await api.login({ username: "100", password: "100" });
    const meta = { meta: { username: "100", token } };
    expect(await api.writeSecureMessage({ key: "b", value: "n" }, meta)).toEqual({ key: "b", value: "n" });
    const sent = fake.calls.find((c) => c.rpc === "write")?.request ?? {};
    expect(sent["key"]).toBe("b".repeat(2000));
    expect(sent["value"]).toBe("n".repeat(2000));
    expect(await api.readSecureMessage({ key: "b" }, meta)).toEqual({ value: "n" });
    expect(fake.calls.at(-1)?.request["key"]).toBe("b".repeat(2000));
  });

  it("shows a stored value that repeats one character as that character, and anything else unchanged", () => {
    const api = new LetterPayloadApi(new FakeKvApi(), 3);
    expect(api.collapse("mmm")).toBe("m");
    expect(api.collapse("mmmmmmm")).toBe("m");
    expect(api.collapse("")).toBe("");
    expect(api.collapse("x")).toBe("x");
    expect(api.collapse("hello")).toBe("hello");
    expect(api.collapse("mmn")).toBe("mmn");
  });

  it("watches the letter's 2000-byte key and shows each value written there as its letter", async () => {
    const fake = new FakeKvApi();
    const lines: string[] = [];
    const session = new Session("100");
    const kv = new KvCommands(new LetterPayloadApi(fake, 2000), session, (line) => lines.push(line));
    await kv.login("100");
    const watching = kv.watch("b", 2, new AbortController().signal);
    expect(fake.calls.at(-1)).toMatchObject({ rpc: "watch", request: { key: "b".repeat(2000) } });
    await fake.writeSecureMessage({ key: "b".repeat(2000), value: "n".repeat(2000) }, { meta: session.meta() });
    await fake.writeSecureMessage({ key: "b".repeat(2000), value: "not one letter" }, { meta: session.meta() });
    await watching;
    expect(lines).toEqual(["login ok user=100", "watch b = n", "watch b = not one letter"]);
  });

  it("prints the letters in the command output while 2000-byte payloads travel", async () => {
    const fake = new FakeKvApi();
    const lines: string[] = [];
    const kv = new KvCommands(new LetterPayloadApi(fake, 2000), new Session("100"), (line) => lines.push(line));
    await kv.login("100");
    await kv.write("b", "n");
    await kv.read("b");
    expect(lines).toEqual(["login ok user=100", "write b = n", "read b = n"]);
    expect(fake.calls.filter((c) => c.rpc !== "login").every((c) => c.request["key"]?.length === 2000)).toBe(true);
  });

  it("refuses a size below 1", () => {
    expect(() => new LetterPayloadApi(new FakeKvApi(), 0)).toThrow(RangeError);
  });
});
