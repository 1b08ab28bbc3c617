import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import type { ProfileSummary } from "./report.js";

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: CpuProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
}

/**
 * Self time of one V8 `.cpuprofile` (what `node --cpu-prof` writes): the
 * `top` functions with the most self time, merged by name and source
 * location, and the self time of each area (system calls, garbage
 * collector, protobuf-es, the runtime, …). Percentages are of the busy time
 * (idle samples left out); `(garbage collector)` and `(program)` are kept,
 * since they are part of where a call's time goes.
 */
export function summarizeProfile(file: string, processName: string, root: string, top = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const totalSamples = profile.nodes.reduce((sum, node) => sum + (node.hitCount ?? 0), 0);
  const totalMs = (profile.endTime - profile.startTime) / 1000;
  const msPerSample = totalSamples === 0 ? 0 : totalMs / totalSamples;
  const byFunction = new Map<string, { function: string; location: string; hits: number }>();
  const byArea = new Map<string, number>();
  let busySamples = 0;
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    if (hits === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const name = functionName === "" ? "(anonymous)" : functionName;
    if (name === "(idle)") continue;
    busySamples += hits;
    const path = shortUrl(url, root);
    const location = url === "" ? "" : `${path}:${lineNumber + 1}`;
    const key = `${name} ${location}`;
    const entry = byFunction.get(key) ?? { function: name, location, hits: 0 };
    entry.hits += hits;
    byFunction.set(key, entry);
    const area = areaOf(name, path);
    byArea.set(area, (byArea.get(area) ?? 0) + hits);
  }
  const percent = (hits: number): number => (busySamples === 0 ? 0 : (hits / busySamples) * 100);
  return {
    process: processName,
    file,
    totalMs,
    busyMs: busySamples * msPerSample,
    byArea: [...byArea.entries()].sort((a, b) => b[1] - a[1]).map(([area, hits]) => ({ area, selfMs: hits * msPerSample, selfPercent: percent(hits) })),
    top: [...byFunction.values()]
      .sort((a, b) => b.hits - a.hits)
      .slice(0, top)
      .map((row) => ({ function: row.function, location: row.location, selfMs: row.hits * msPerSample, selfPercent: percent(row.hits) })),
  };
}

/** Native functions whose self time is the kernel's socket work. */
const SYSCALLS = new Set(["writev", "writeBuffer", "writeUtf8String", "writeLatin1String", "onStreamRead", "readStart", "readStop"]);

/** Which part of the process a function belongs to, by its name and source path. */
function areaOf(name: string, path: string): string {
  if (name === "(garbage collector)") return "garbage collector";
  if (name === "(program)") return "V8 / native (program)";
  if (SYSCALLS.has(name) && path === "") return "socket system calls (write / writev)";
  if (path === "") return "native (other)";
  if (path.startsWith("node:")) return "Node.js internals";
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  if (pkg !== null) return pkg[1]!;
  const workspace = /^(runtime|tiger|examples\/[^/]+)\//.exec(path);
  if (workspace !== null) return workspace[1]!;
  return "other";
}

function shortUrl(url: string, root: string): string {
  if (!url.startsWith("file://")) return url;
  const path = fileURLToPath(url);
  const rel = relative(root, path);
  return rel.startsWith("..") ? path : rel;
}

/** Summaries of every `.cpuprofile` under `dir`'s `<system>-r<round>-<role>` folders. */
export function summarizeProfileDir(dir: string, root: string, top = 15): ProfileSummary[] {
  const summaries: ProfileSummary[] = [];
  for (const folder of readdirSync(dir).sort()) {
    let files: string[];
    try {
      files = readdirSync(join(dir, folder)).filter((f) => f.endsWith(".cpuprofile"));
    } catch {
      continue;
    }
    for (const file of files.sort()) summaries.push(summarizeProfile(join(dir, folder, file), files.length > 1 ? `${folder} ${file}` : folder, root, top));
  }
  return summaries;
}
