import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["runtime/src/**/*.test.ts", "scripts/**/*.test.ts", "protoc-gen-dora/test/**/*.test.ts", "tiger/**/*.test.ts", "examples/*/src/**/*.test.ts", "examples/*/test/**/*.test.ts"],
    exclude: ["**/node_modules/**", "**/dist/**"],
    testTimeout: 30000,
    hookTimeout: 30000,
    pool: "forks",
  },
});
