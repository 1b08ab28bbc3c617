import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createClient, type Client } from "./client.js";
import type { ClientTlsOptions } from "./client-options.js";
import { Code } from "./code.js";
import { DoraError } from "./dora-error.js";
import type { HandlerContext } from "./handler-context.js";
import { silentLogger } from "./logger.js";
import { createServer, type Server } from "./server.js";
import type { ServerTlsOptions } from "./server-options.js";
import { EchoService, method } from "./test-helpers/echo-service.js";
import { issueExpired, issuePki, issueSelfSigned, type Pki } from "./test-helpers/pki.js";

const Echo = method(EchoService, "Echo");
/** Far beyond any test: a call that fails with Unavailable did not wait for its deadline. */
const NEVER_MS = 600_000;

let dir: string;
let pki: Pki;
let foreign: Pki;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "dora-tls-"));
  pki = issuePki(path.join(dir, "ours"));
  foreign = issuePki(path.join(dir, "foreign"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const servers: Server[] = [];
const clients: Client[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

let lastSubject: string | undefined;
async function serve(tls: ServerTlsOptions | undefined): Promise<string> {
  const server = createServer({ ...(tls !== undefined ? { tls } : {}), closeGraceMs: 100, logger: silentLogger });
  server.register(EchoService, {
    async echo(req: { text: string }, ctx: HandlerContext) {
      const cn = ctx.peer.certificate?.subject?.CN;
      lastSubject = Array.isArray(cn) ? cn.join(",") : cn;
      return { text: req.text };
    },
  });
  servers.push(server);
  const { port } = await server.listen();
  return `127.0.0.1:${port}`;
}

function client(address: string, tls: ClientTlsOptions | undefined): Client {
  const c = createClient({ address, poolSize: 1, timeoutMs: NEVER_MS, ...(tls !== undefined ? { tls } : {}) });
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

/** The call fails with Unavailable (not at its far deadline) and a message in words, not OpenSSL's text. */
async function unavailable(c: Client): Promise<string> {
  const err = await failure(c.unary(Echo, {}));
  expect(err.code).toBe(Code.Unavailable);
  expect(err.rawMessage).not.toMatch(/error:[0-9A-F]{8}|routines/);
  return err.rawMessage;
}

describe("TLS", () => {
  it("serves a client that trusts the server's CA; no client certificate is needed without a server CA", async () => {
    const address = await serve({ cert: pki.serverCert, key: pki.serverKey });
    const res = await client(address, { ca: pki.ca }).unary(Echo, { text: "secure" });
    expect(res.text).toBe("secure");
    expect(lastSubject).toBeUndefined();
  });

  it("verifies the server's name: localhost as SNI works", async () => {
    const address = await serve({ cert: pki.serverCert, key: pki.serverKey });
    const res = await client(address.replace("127.0.0.1", "localhost"), { ca: pki.ca }).unary(Echo, { text: "by name" });
    expect(res.text).toBe("by name");
  });
});

describe("TLS failures say why, in words (SPEC §4)", () => {
  it("a server certificate from a CA the client does not trust: unknown CA", async () => {
    const address = await serve({ cert: pki.serverCert, key: pki.serverKey });
    expect(await unavailable(client(address, { ca: foreign.ca }))).toBe(
      `connection to ${address} failed: TLS handshake failed: the server's certificate is not signed by a trusted CA (unable to verify it: unknown CA) (UNABLE_TO_VERIFY_LEAF_SIGNATURE)`,
    );
  });

  it("a self-signed server certificate", async () => {
    const selfSigned = issueSelfSigned(path.join(dir, "self"));
    const address = await serve({ cert: selfSigned.cert, key: selfSigned.key });
    expect(await unavailable(client(address, { ca: pki.ca }))).toBe(
      `connection to ${address} failed: TLS handshake failed: the server's certificate is self-signed and not trusted (unknown CA) (DEPTH_ZERO_SELF_SIGNED_CERT)`,
    );
  });

  it("an expired server certificate", async () => {
    const expired = issueExpired(pki, "server");
    const address = await serve({ cert: expired.cert, key: expired.key });
    expect(await unavailable(client(address, { ca: pki.ca }))).toBe(`connection to ${address} failed: TLS handshake failed: the server's certificate has expired (CERT_HAS_EXPIRED)`);
  });

  it("a server certificate for another name: hostname/IP mismatch", async () => {
    const address = await serve({ cert: pki.serverCert, key: pki.serverKey });
    const message = await unavailable(client(address, { ca: pki.ca, servername: "other.example" }));
    expect(message).toMatch(
      new RegExp(`^connection to ${address} failed: TLS handshake failed: the server's certificate does not match the host name or IP address \\(hostname/IP mismatch\\): .*other\\.example.* \\(ERR_TLS_CERT_ALTNAME_INVALID\\)$`),
    );
  });

  it("a plaintext client against a TLS server: reported at once, and the server keeps serving", async () => {
    const address = await serve({ cert: pki.serverCert, key: pki.serverKey });
    expect(await unavailable(client(address, undefined))).toMatch(new RegExp(`^connection to ${address} failed: (the server does not speak dora|the server closed the connection before answering)`));
    const res = await client(address, { ca: pki.ca }).unary(Echo, { text: "still" });
    expect(res.text).toBe("still");
  });

  it("a TLS client against a plaintext server", async () => {
    const address = await serve(undefined);
    expect(await unavailable(client(address, { ca: pki.ca }))).toBe(
      `connection to ${address} failed: TLS handshake failed: the server closed the connection during the handshake (does it serve TLS?)`,
    );
  });
});

describe("mutual TLS", () => {
  const mtls = (): ServerTlsOptions => ({ cert: pki.serverCert, key: pki.serverKey, ca: pki.ca });

  it("accepts a client certificate signed by the CA and shows it to the handler", async () => {
    const address = await serve(mtls());
    const res = await client(address, { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey }).unary(Echo, { text: "mutual" });
    expect(res.text).toBe("mutual");
    expect(lastSubject).toBe("etclient");
  });

  it("rejects a client without a certificate: certificate required", async () => {
    const address = await serve(mtls());
    expect(await unavailable(client(address, { ca: pki.ca }))).toBe(
      `connection to ${address} failed: TLS handshake failed: the server requires a client certificate and none was sent (certificate required) (ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED)`,
    );
  });

  // A Node server checks a client certificate after the handshake and closes without a TLS
  // alert, so the client says what it can see: that its certificate was refused, and why when it can tell.
  it("rejects a client certificate from a foreign CA: the client says the server did not accept it", async () => {
    const address = await serve(mtls());
    expect(await unavailable(client(address, { ca: pki.ca, cert: foreign.clientCert, key: foreign.clientKey }))).toBe(
      `connection to ${address} failed: TLS handshake failed: the server closed the connection right after the handshake: it did not accept the client certificate (is it signed by a CA the server trusts?)`,
    );
  });

  it("rejects an expired client certificate: the client says it has expired", async () => {
    const address = await serve(mtls());
    const expired = issueExpired(pki, "client");
    expect(await unavailable(client(address, { ca: pki.ca, cert: expired.cert, key: expired.key }))).toBe(
      `connection to ${address} failed: TLS handshake failed: the server closed the connection right after the handshake: the client certificate has expired (valid until Jan  2 00:00:00 2020 GMT)`,
    );
  });

  it("fails with Unavailable naming the problem when the client's key does not match its certificate", async () => {
    const address = await serve(mtls());
    expect(await unavailable(client(address, { ca: pki.ca, cert: pki.clientCert, key: foreign.clientKey }))).toBe(`connection to ${address} failed: invalid TLS settings: key values mismatch`);
  });

  it("keeps serving good clients after rejecting bad ones", async () => {
    const address = await serve(mtls());
    await unavailable(client(address, { ca: pki.ca }));
    const res = await client(address, { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey }).unary(Echo, { text: "good" });
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
    await closed;
  });
});
