import { describe, expect, it } from "vitest";
import { ConnectTimeoutError, describeFailure, openSslReason, ProbeTimeoutError, type FailureContext } from "./connection-failure.js";
import { KeepaliveTimeoutError } from "./nap-connection.js";
import { FrameError } from "./protocol/frame-decoder.js";

const at = (ctx: Partial<FailureContext>): FailureContext => ({ label: "db:5432", tls: false, phase: "connecting", transportUp: false, ...ctx });
const coded = (code: string, message = code) => Object.assign(new Error(message), { code });

describe("describeFailure", () => {
  it("keeps network errors as Node words them, naming the server", () => {
    expect(describeFailure(coded("ECONNREFUSED", "connect ECONNREFUSED 10.0.0.1:5432"), at({}))).toBe("connection to db:5432 failed: connect ECONNREFUSED 10.0.0.1:5432");
    expect(describeFailure(new ConnectTimeoutError("no connection within 5000 ms"), at({}))).toBe("connection to db:5432 failed: no connection within 5000 ms");
  });

  it("says a peer does not speak dora when its first bytes are not a frame, guessing what it speaks", () => {
    const frameError = (bytes: string | Buffer) => new FrameError("x", "oversize", Buffer.from(bytes).subarray(0, 10));
    const up = at({ transportUp: true });
    expect(describeFailure(frameError("HTTP/1.1 400"), up)).toBe("connection to db:5432 failed: the server does not speak dora: it answered with bytes that are not a dora frame; it answered in HTTP");
    expect(describeFailure(frameError("-ERR unknown command"), up)).toMatch(/; it answered like a Redis server$/);
    expect(describeFailure(frameError(Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x32, 0, 0, 0])), up)).toMatch(/; it answered in TLS: connect with TLS$/);
    expect(describeFailure(frameError("E\0\0\0TSFATAL"), up)).toBe("connection to db:5432 failed: the server does not speak dora: it answered with bytes that are not a dora frame");
  });

  it("says a peer does not speak dora when it stays silent after connecting", () => {
    expect(describeFailure(new ProbeTimeoutError("it sent nothing within 1000 ms of connecting"), at({ transportUp: true }))).toBe(
      "connection to db:5432 failed: the server does not speak dora: it sent nothing within 1000 ms of connecting",
    );
  });

  it("describes an open connection that closed, by the server or by keepalive", () => {
    expect(describeFailure(undefined, at({ phase: "open" }))).toBe("connection to db:5432 closed by the server");
    expect(describeFailure(new KeepaliveTimeoutError("no frame received for 25000 ms"), at({ phase: "open", tls: true }))).toBe("connection to db:5432 closed: no frame received for 25000 ms");
  });

  it("never passes OpenSSL's raw text on: an unknown TLS error keeps only its reason", () => {
    const raw = "error:0A000086:SSL routines:tls_post_process_server_certificate:certificate verify failed:../deps/openssl/openssl/ssl/statem/statem_clnt.c:1890:";
    expect(openSslReason(raw)).toBe("certificate verify failed");
    expect(describeFailure(coded("ERR_SSL_SOMETHING_NEW", raw), at({ tls: true }))).toBe("connection to db:5432 failed: TLS error: certificate verify failed");
    expect(openSslReason("plain words")).toBe("plain words");
  });
});
