import { describe, expect, it } from "vitest";
import { parseHostPort } from "./host-port.js";

describe("parseHostPort", () => {
  it("splits a name, an IPv4 address and a bracketed IPv6 address from a port of 0..65535", () => {
    expect(parseHostPort("example.com:8443")).toEqual({ host: "example.com", port: 8443 });
    expect(parseHostPort("127.0.0.1:0")).toEqual({ host: "127.0.0.1", port: 0 });
    expect(parseHostPort("[::1]:65535")).toEqual({ host: "::1", port: 65535 });
    expect(parseHostPort(":7")).toEqual({ host: "", port: 7 });
  });

  it("refuses a bare IPv6 address, a port above 65535 or missing, spaces and brackets out of place", () => {
    for (const bad of ["::1:80", "h:70000", "h:", "h", "h :80", "[::1:80", "a]:80", "h:8o", ""]) expect(parseHostPort(bad), bad).toBeUndefined();
  });
});
