import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { summarizeProfile } from "./profile.js";

const dir = mkdtempSync(join(tmpdir(), "dora-bench-profile-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("summarizeProfile", () => {
  it("ranks functions and areas by self time, leaving idle out of the busy time", () => {
    const root = "/repo";
    const frame = (functionName: string, url: string, lineNumber = 0) => ({ functionName, url, lineNumber, scriptId: "0", columnNumber: 0 });
    const profile = {
      startTime: 0,
      endTime: 1_000_000, // 1000 ms
      nodes: [
        { id: 1, callFrame: frame("(root)", ""), hitCount: 0 },
        { id: 2, callFrame: frame("(idle)", ""), hitCount: 50 },
        { id: 3, callFrame: frame("writev", ""), hitCount: 20 },
        { id: 4, callFrame: frame("encodePkgFrame", pathToFileURL("/repo/runtime/dist/pkg.js").href, 184), hitCount: 15 },
        { id: 5, callFrame: frame("ensureCapacity", pathToFileURL("/repo/node_modules/@bufbuild/protobuf/dist/esm/wire/binary-encoding.js").href, 92), hitCount: 10 },
        { id: 6, callFrame: frame("encodePkgFrame", pathToFileURL("/repo/runtime/dist/pkg.js").href, 184), hitCount: 5 },
        { id: 7, callFrame: frame("(garbage collector)", ""), hitCount: 0 },
      ],
    };
    const file = join(dir, "p.cpuprofile");
    writeFileSync(file, JSON.stringify(profile));

    const summary = summarizeProfile(file, "dora-r1-server", root, 2);

    expect(summary.totalMs).toBe(1000);
    expect(summary.busyMs).toBe(500);
    expect(summary.top).toEqual([
      { function: "writev", location: "", selfMs: 200, selfPercent: 40 },
      { function: "encodePkgFrame", location: "runtime/dist/pkg.js:185", selfMs: 200, selfPercent: 40 },
    ]);
    expect(summary.byArea.map((a) => [a.area, a.selfPercent])).toEqual([
      ["socket system calls (write / writev)", 40],
      ["runtime", 40],
      ["@bufbuild/protobuf", 20],
    ]);
  });
});
