import { execFileSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createClient, type Client, type ClientTlsOptions } from "./client.js";
import { Code } from "./code.js";
import type { HandlerContext } from "./context.js";
import { DoraError } from "./dora-error.js";
import { createServer, type Server, type ServerTlsOptions } from "./server.js";
import { EchoService, method, type EchoResponse } from "./test-helpers/echo-service.js";
import { within } from "./test-helpers/harness.js";

const Echo = method(EchoService, "Echo");
const makeCerts = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../certs/make-certs.sh");

interface Pki {
  ca: Buffer;
  serverCert: Buffer;
  serverKey: Buffer;
  clientCert: Buffer;
  clientKey: Buffer;
}

let dir: string;
let pki: Pki;
let foreign: Pki;

function issue(out: string): Pki {
  execFileSync("bash", [makeCerts, out], { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, CERT_DAYS: "2" } });
  const read = (name: string) => fs.readFileSync(path.join(out, name));
  return { ca: read("ca.pem"), serverCert: read("server.pem"), serverKey: read("server.key"), clientCert: read("client.pem"), clientKey: read("client.key") };
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "dora-tls-"));
  pki = issue(path.join(dir, "ours"));
  foreign = issue(path.join(dir, "foreign"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const servers: Server[] = [];
const clients: Client[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

let lastSubject: string | undefined;
async function serve(tls: ServerTlsOptions): Promise<string> {
  const server = createServer({ tls, closeGraceMs: 100 });
  server.register(EchoService, {
    async echo(req: { text: string }, ctx: HandlerContext) {
      lastSubject = ctx.peer.certificate?.subject?.CN;
      return { text: req.text };
    },
  });
  servers.push(server);
  const { port } = await server.listen();
  return `127.0.0.1:${port}`;
}

function client(address: string, tls: ClientTlsOptions | undefined, timeoutMs = 5000): Client {
  const c = createClient({ address, poolSize: 1, timeoutMs, connectTimeoutMs: 3000, ...(tls !== undefined ? { tls } : {}) });
  clients.push(c);
  return c;
}

async function failure(p: Promise<unknown>): Promise<DoraError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e, "the call succeeded").toBeInstanceOf(DoraError);
  return e as DoraError;
}

describe("TLS", () => {
  it("serves a client that trusts the server's CA; no client certificate is needed without a server CA", async () => {
    const address = await serve({ cert: pki.serverCert, key: pki.serverKey });
    const res = (await client(address, { ca: pki.ca }).unary(Echo, { text: "secure" })) as unknown as EchoResponse;
    expect(res.text).toBe("secure");
    expect(lastSubject).toBeUndefined();
  });

  it("verifies the server's name: localhost as SNI works", async () => {
    const address = await serve({ cert: pki.serverCert, key: pki.serverKey });
    const res = (await client(address.replace("127.0.0.1", "localhost"), { ca: pki.ca }).unary(Echo, { text: "by name" })) as unknown as EchoResponse;
    expect(res.text).toBe("by name");
  });

  it("fails with Unavailable, saying why, when the server's certificate is not trusted", async () => {
    const address = await serve({ cert: pki.serverCert, key: pki.serverKey });
    const started = Date.now();
    const err = await failure(client(address, { ca: foreign.ca }, 10_000).unary(Echo, {}));
    expect(err.code).toBe(Code.Unavailable);
    expect(err.rawMessage).toMatch(/TLS error: .*(certificate|self.signed|issuer)/i);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("a plaintext client against a TLS server fails within its deadline, and the server keeps serving", async () => {
    const address = await serve({ cert: pki.serverCert, key: pki.serverKey });
    const err = await failure(client(address, undefined, 1000).unary(Echo, {}));
    expect([Code.Unavailable, Code.DeadlineExceeded]).toContain(err.code);
    const res = (await client(address, { ca: pki.ca }).unary(Echo, { text: "still" })) as unknown as EchoResponse;
    expect(res.text).toBe("still");
  });
});

describe("mutual TLS", () => {
  const mtls = (): ServerTlsOptions => ({ cert: pki.serverCert, key: pki.serverKey, ca: pki.ca });

  it("accepts a client certificate signed by the CA and shows it to the handler", async () => {
    const address = await serve(mtls());
    const res = (await client(address, { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey }).unary(Echo, { text: "mutual" })) as unknown as EchoResponse;
    expect(res.text).toBe("mutual");
    expect(lastSubject).toBe("etclient");
  });

  it("rejects a client without a certificate with Unavailable and a reason, promptly", async () => {
    const address = await serve(mtls());
    const started = Date.now();
    const err = await failure(client(address, { ca: pki.ca }, 10_000).unary(Echo, {}));
    expect(err.code).toBe(Code.Unavailable);
    expect(err.rawMessage).toMatch(/certificate/i);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("rejects a client certificate from a foreign CA with Unavailable and a reason", async () => {
    const address = await serve(mtls());
    const err = await failure(client(address, { ca: pki.ca, cert: foreign.clientCert, key: foreign.clientKey }, 10_000).unary(Echo, {}));
    expect(err.code).toBe(Code.Unavailable);
    expect(err.rawMessage).toMatch(/certificate|unknown ca|alert/i);
  });

  it("keeps serving good clients after rejecting bad ones", async () => {
    const address = await serve(mtls());
    await failure(client(address, { ca: pki.ca }, 3000).unary(Echo, {}));
    const res = (await client(address, { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey }).unary(Echo, { text: "good" })) as unknown as EchoResponse;
    expect(res.text).toBe("good");
  });

  it("closes a raw TCP connection that never completes a handshake when the server closes", async () => {
    const address = await serve(mtls());
    const [host, port] = address.split(":");
    const socket = net.connect({ host: host!, port: Number(port) });
    socket.on("error", () => {});
    const closed = new Promise<void>((r) => socket.once("close", () => r()));
    await new Promise<void>((r) => socket.once("connect", () => r()));
    await servers.pop()!.close();
    expect(await within(closed, 3000)).toBe(true);
  });
});
