import { afterEach, describe, expect, it } from "vitest";
import { Code } from "./code.js";
import { createClient, type Client } from "./client.js";
import { DoraError } from "./dora-error.js";
import { createServer, type Server } from "./server.js";
import { EchoService, method, type EchoRequest } from "./test-helpers/echo-service.js";

let server: Server | undefined;
let client: Client | undefined;
afterEach(async () => {
  await client?.close();
  await server?.close();
});

describe("unary round trip", () => {
  it("echoes a request over loopback and carries handler errors", async () => {
    server = createServer();
    server.register(EchoService, {
      async echo(req: EchoRequest) {
        return { text: req.text, count: 1n };
      },
      async fail() {
        throw new DoraError(Code.NotFound, "nothing here");
      },
    });
    const { port } = await server.listen({ port: 0 });
    client = createClient({ address: `127.0.0.1:${port}` });
    const res = (await client.unary(method(EchoService, "Echo"), { text: "hi" } as never)) as unknown as { text: string };
    expect(res.text).toBe("hi");
    await expect(client.unary(method(EchoService, "Fail"), {} as never)).rejects.toMatchObject({ code: Code.NotFound, rawMessage: "nothing here" });
  });
});
