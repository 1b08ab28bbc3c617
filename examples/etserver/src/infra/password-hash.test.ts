import { describe, expect, it } from "vitest";
import { fastVerifier, hashPassword, needsUpgrade, verifyPassword } from "./password-hash.js";

const SEED_SCRYPT_PARAMS = { N: 1024, r: 8, p: 1 };

describe("scrypt password hashes", () => {
  it("stores its parameters and verifies with them", async () => {
    const encoded = await hashPassword("42", SEED_SCRYPT_PARAMS);
    expect(encoded).toMatch(/^scrypt\$1024\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(encoded).not.toContain("42$");
    expect(await verifyPassword("42", encoded)).toBe(true);
    expect(await verifyPassword("43", encoded)).toBe(false);
  });

  it("salts every hash", async () => {
    expect(await hashPassword("x", SEED_SCRYPT_PARAMS)).not.toBe(await hashPassword("x", SEED_SCRYPT_PARAMS));
  });

  it("uses N = 2^15 by default", async () => {
    const encoded = await hashPassword("secret");
    expect(encoded.startsWith("scrypt$32768$8$1$")).toBe(true);
    expect(await verifyPassword("secret", encoded)).toBe(true);
  });

  it("rejects malformed hashes instead of throwing", async () => {
    for (const bad of ["", "plain", "scrypt$1024$8$1$$", "bcrypt$1$2$3$c2FsdA==$aGFzaA==", "scrypt$1000$8$1$c2FsdA==$aGFzaA==", "scrypt$1073741824$8$1$c2FsdA==$aGFzaA=="]) {
      expect(await verifyPassword("x", bad)).toBe(false);
    }
  });
});

describe("fast salted verifiers of seeded accounts", () => {
  it("are marked as such, salted, and checked in constant time", async () => {
    const encoded = fastVerifier("42");
    expect(encoded).toMatch(/^sha256\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$/);
    expect(fastVerifier("42")).not.toBe(encoded);
    expect(encoded).not.toContain("42$");
    expect(await verifyPassword("42", encoded)).toBe(true);
    expect(await verifyPassword("43", encoded)).toBe(false);
    expect(await verifyPassword("42", encoded.slice(0, -4) + "AAA=")).toBe(false);
    for (const bad of ["sha256$", "sha256$$", "sha256$c2FsdA==$aGFzaA==", "sha256$c2FsdA==$aGFzaA==$x"]) expect(await verifyPassword("x", bad)).toBe(false);
  });

  it("need an upgrade, as do scrypt hashes weaker than N = 2^15; regular ones do not", async () => {
    expect(needsUpgrade(fastVerifier("1"))).toBe(true);
    expect(needsUpgrade(await hashPassword("1", SEED_SCRYPT_PARAMS))).toBe(true);
    expect(needsUpgrade(await hashPassword("1"))).toBe(false);
  });
});
