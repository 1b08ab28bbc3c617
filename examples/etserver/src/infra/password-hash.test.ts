import { describe, expect, it } from "vitest";
import { hashPassword, SEED_SCRYPT_PARAMS, verifyPassword } from "./password-hash.js";

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
