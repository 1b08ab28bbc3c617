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
 * Self time by function of one V8 `.cpuprofile` (what `node --cpu-prof`
 * writes), the `top` largest first. Functions are merged by name and
 * source location; `(garbage collector)`, `(program)` and `(idle)` are kept,
 * since they are part of where a call's time goes.
 */
export function summarizeProfile(file: string, processName: string, root: string, top = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const totalSamples = profile.nodes.reduce((sum, node) => sum + (node.hitCount ?? 0), 0);
  const totalMs = (profile.endTime - profile.startTime) / 1000;
  const byFunction = new Map<string, { function: string; location: string; hits: number }>();
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    if (hits === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const location = url === "" ? "" : `${shortUrl(url, root)}:${lineNumber + 1}`;
    const name = functionName === "" ? "(anonymous)" : functionName;
    const key = `${name} ${location}`;
    const entry = byFunction.get(key) ?? { function: name, location, hits: 0 };
    entry.hits += hits;
    byFunction.set(key, entry);
  }
  const rows = [...byFunction.values()].sort((a, b) => b.hits - a.hits).slice(0, top);
  return {
    process: processName,
    file,
    totalMs,
    top: rows.map((row) => ({
      function: row.function,
      location: row.location,
      selfMs: totalSamples === 0 ? 0 : (row.hits / totalSamples) * totalMs,
      selfPercent: totalSamples === 0 ? 0 : (row.hits / totalSamples) * 100,
    })),
  };
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
