/**
 * Why a client connection failed or closed, in words, for the `Unavailable`
 * message of its calls (SPEC §4: a TLS or certificate failure says why; a
 * peer that does not speak dora is reported as such). Internal module.
 */
import { X509Certificate } from "node:crypto";
import { KeepaliveTimeoutError } from "./nap-connection.js";
import { FrameError } from "./protocol/frame-decoder.js";

/** The TCP (and TLS) connection was not established within `connectTimeoutMs`. */
export class ConnectTimeoutError extends Error {
  override name = "ConnectTimeoutError";
}

/** The connection was established but nothing came back within `probeTimeoutMs`. */
export class ProbeTimeoutError extends Error {
  override name = "ProbeTimeoutError";
}

/** Where a connection was when it ended. */
export interface FailureContext {
  /** The server, `HOST:PORT`. */
  readonly label: string;
  readonly tls: boolean;
  /**
   * `connecting`: no frame came back yet (TCP, TLS, then the first frame);
   * `open`: the server had answered on this connection.
   */
  readonly phase: "connecting" | "open";
  /** TCP (and TLS) was established: only the first frame was missing. */
  readonly transportUp: boolean;
  /** The client certificate presented (PEM), if any. */
  readonly clientCert?: string | Buffer | undefined;
}

/** Socket errors about the network, not TLS. */
const NETWORK_ERRORS = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN", "EPIPE", "ECONNABORTED"]);

/** Node/OpenSSL error codes of a TLS connection, in words. */
const TLS_FAILURES: Readonly<Record<string, string>> = {
  // The server's certificate, as this client verifies it.
  CERT_HAS_EXPIRED: "the server's certificate has expired",
  CERT_NOT_YET_VALID: "the server's certificate is not valid yet",
  ERR_TLS_CERT_ALTNAME_INVALID: "the server's certificate does not match the host name or IP address (hostname/IP mismatch)",
  DEPTH_ZERO_SELF_SIGNED_CERT: "the server's certificate is self-signed and not trusted (unknown CA)",
  SELF_SIGNED_CERT_IN_CHAIN: "the server's certificate chain ends in a self-signed CA that is not trusted (unknown CA)",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "the server's certificate is not signed by a trusted CA (unable to verify it: unknown CA)",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "the server's certificate is signed by an unknown CA",
  UNABLE_TO_GET_ISSUER_CERT: "the server's certificate is signed by an unknown CA",
  CERT_SIGNATURE_FAILURE: "the server's certificate has an invalid signature",
  CERT_UNTRUSTED: "the server's certificate is not trusted",
  CERT_REVOKED: "the server's certificate is revoked",
  INVALID_CA: "a CA certificate in the server's chain is invalid",
  INVALID_PURPOSE: "the server's certificate is not meant for a TLS server (unsuitable certificate purpose)",
  // What the server said about this client's certificate (TLS alerts).
  ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: "the server requires a client certificate and none was sent (certificate required)",
  ERR_SSL_TLSV1_ALERT_UNKNOWN_CA: "the server rejected the client certificate: it is not signed by a CA the server trusts (unknown CA)",
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED: "the server rejected the client certificate: it has expired",
  ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE: "the server rejected the client certificate (bad certificate)",
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN: "the server rejected the client certificate",
  ERR_SSL_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE: "the server rejected the client certificate (unsupported certificate)",
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_REVOKED: "the server rejected the client certificate: it is revoked",
  ERR_SSL_TLSV1_ALERT_ACCESS_DENIED: "the server denied access to this client certificate",
  ERR_SSL_TLSV1_ALERT_DECRYPT_ERROR: "the handshake failed to verify a signature (does the client key match its certificate?)",
  // The handshake itself.
  ERR_SSL_WRONG_VERSION_NUMBER: "the server does not speak TLS",
  ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION: "the server does not accept this TLS version",
  ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE: "the server refused the handshake (no protocol or cipher in common)",
  ERR_SSL_TLSV1_ALERT_INTERNAL_ERROR: "the server failed during the handshake",
};

/**
 * The reason part of an OpenSSL message (`error:0A00045C:SSL routines:ssl3_read_bytes:tlsv13 alert
 * certificate required:../deps/…:SSL alert number 116` → `tlsv13 alert certificate required`);
 * other messages are returned as they are.
 */
export function openSslReason(message: string): string {
  const m = /error:[0-9A-Fa-f]+:[^:]*:[^:]*:([^:]+)/.exec(message);
  return m === null ? message : m[1]!.trim();
}

/** What the first bytes of a non-dora answer suggest the peer is. */
function guessProtocol(header: Buffer): string {
  if ((header[0] === 0x15 || header[0] === 0x16) && header[1] === 0x03) return "; it answered in TLS: connect with TLS";
  const text = header.toString("latin1");
  if (text.startsWith("HTTP/")) return "; it answered in HTTP";
  if (/^[-+$:*]/.test(text)) return "; it answered like a Redis server";
  return "";
}

/**
 * Describes why a connection failed (`phase` connecting): `connection to HOST:PORT failed: …`,
 * or why it closed (`phase` open): `connection to HOST:PORT closed…`. Every message of a
 * failure the client decided starts this way (or with `no connection available:`), so a
 * caller can tell it from an `Unavailable` the server sent.
 */
export function describeFailure(error: Error | undefined, ctx: FailureContext): string {
  const { label } = ctx;
  if (ctx.phase === "open") {
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    return error === undefined ? `connection to ${label} closed by the server` : `connection to ${label} closed: ${describeError(error, code, ctx)}`;
  }
  return `connection to ${label} failed: ${whyConnectFailed(error, ctx)}`;
}

function whyConnectFailed(error: Error | undefined, ctx: FailureContext): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (error instanceof FrameError) {
    return `the server does not speak dora: it answered with bytes that are not a dora frame${guessProtocol(error.header)}`;
  }
  if (error instanceof ProbeTimeoutError || (error instanceof KeepaliveTimeoutError && ctx.transportUp)) {
    return `the server does not speak dora: ${error.message}`;
  }
  if (ctx.tls && ctx.transportUp && (error === undefined || code === "ECONNRESET")) {
    return `TLS handshake failed: the server closed the connection right after the handshake: ${clientCertificateProblem(ctx.clientCert)}`;
  }
  if (error === undefined) return "the server closed the connection before answering";
  if (ctx.tls && code !== undefined && TLS_FAILURES[code] !== undefined) {
    const reason = (error as { reason?: unknown }).reason;
    const detail = code === "ERR_TLS_CERT_ALTNAME_INVALID" && typeof reason === "string" ? `: ${reason}` : "";
    return `TLS handshake failed: ${TLS_FAILURES[code]}${detail} (${code})`;
  }
  if (ctx.tls && !ctx.transportUp && (code === "ECONNRESET" || /socket disconnected before secure TLS connection/.test(error.message))) {
    return "TLS handshake failed: the server closed the connection during the handshake (does it serve TLS?)";
  }
  return describeError(error, code, ctx);
}

/** Why a connection could not even be started (the dialer threw, e.g. on a client key that does not match its certificate). */
export function describeDialError(error: unknown, label: string, tls: boolean): string {
  const message = error instanceof Error ? error.message : String(error);
  return tls ? `connection to ${label} failed: invalid TLS settings: ${openSslReason(message)}` : `connection to ${label} failed: ${message}`;
}

/**
 * Why a server that checks client certificates after the handshake (as Node's
 * does, without a TLS alert) may have closed: what the client can tell about
 * its own certificate.
 */
function clientCertificateProblem(cert: string | Buffer | undefined): string {
  if (cert === undefined) return "did it require a client certificate?";
  try {
    const x509 = new X509Certificate(cert);
    if (Date.parse(x509.validTo) < Date.now()) return `the client certificate has expired (valid until ${x509.validTo})`;
    if (Date.parse(x509.validFrom) > Date.now()) return `the client certificate is not valid yet (valid from ${x509.validFrom})`;
  } catch {
    return "the client certificate cannot be read";
  }
  return "it did not accept the client certificate (is it signed by a CA the server trusts?)";
}

function describeError(error: Error, code: string | undefined, ctx: FailureContext): string {
  if (ctx.tls && code !== undefined && TLS_FAILURES[code] !== undefined) return `${TLS_FAILURES[code]} (${code})`;
  if (ctx.tls && !(code !== undefined && NETWORK_ERRORS.has(code)) && !(error instanceof KeepaliveTimeoutError)) return `TLS error: ${openSslReason(error.message)}`;
  return error.message;
}
