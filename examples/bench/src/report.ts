import type { BenchSettings } from "./settings.js";
import type { Measurement, SystemGroup } from "./systems.js";

/** One run of one system in one round: its measurement, or why it failed or was skipped (a store it needs did not answer). */
export type RunRecord =
  | ({ system: string; round: number; ok: true } & Measurement)
  | { system: string; round: number; ok: false; error: string; skipped?: true };

/** Medians over the rounds of one system. */
export interface SystemSummary {
  system: string;
  label: string;
  group: SystemGroup;
  /** Rounds that produced a measurement. */
  runs: number;
  /** Rounds that failed, with their errors. */
  errors: string[];
  /** Why the system was skipped (not run at all), else null. */
  skipped: string | null;
  calls: number | null;
  failures: number | null;
  qps: number | null;
  qpsMin: number | null;
  qpsMax: number | null;
  p50Us: number | null;
  p99Us: number | null;
  maxUs: number | null;
  serverCpuUsPerCall: number | null;
  clientCpuUsPerCall: number | null;
  serverPeakRssMiB: number | null;
  clientPeakRssMiB: number | null;
}

/** A ratio computed in every round that has both sides, and its median. */
export interface RatioSummary {
  name: string;
  /** How it is computed. */
  definition: string;
  /** The goal the product aims for, as text (the benchmark reports; it never fails). */
  target: string;
  /** True when the median meets the target; null when there is no median. */
  met: boolean | null;
  perRound: (number | null)[];
  median: number | null;
}

/** The machine a run was made on. */
export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  node: string;
  platform: string;
  /** 1-minute load average when the run started. */
  loadAverageAtStart: number;
}

/** Everything a run of the comparison writes (results/*.json). */
export interface BenchReport {
  startedAt: string;
  /** When the last run ended; null while runs are still to come (the file is rewritten after every run). */
  finishedAt: string | null;
  /** Runs done so far, of `plannedRuns` (rounds × systems). */
  completedRuns: number;
  plannedRuns: number;
  machine: MachineInfo;
  settings: Omit<BenchSettings, "cpuProfDir" | "clientTimeoutMs" | "stores">;
  systems: SystemSummary[];
  ratios: RatioSummary[];
  runs: RunRecord[];
  /** Top self-time functions per profiled process, when run with --cpu-prof. */
  profiles?: ProfileSummary[];
}

/** Self time by function of one `.cpuprofile`. */
export interface ProfileSummary {
  /** Which system, round and role (server / client). */
  process: string;
  file: string;
  /** Wall time the profile covers, ms. */
  totalMs: number;
  /** Time not idle, ms. */
  busyMs: number;
  /** Self time per area (system calls, GC, a package, a workspace), largest first; percent of busy time. */
  byArea: { area: string; selfMs: number; selfPercent: number }[];
  /** Functions with the most self time; percent of busy time. */
  top: { function: string; location: string; selfMs: number; selfPercent: number }[];
}

/** Median of the numbers among `values` (nulls skipped); null when none. */
export function median(values: readonly (number | null | undefined)[]): number | null {
  const sorted = values.filter((v): v is number => typeof v === "number" && Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Per-system medians over the rounds. */
export function summarize(systems: readonly { id: string; label: string; group: SystemGroup }[], runs: readonly RunRecord[]): SystemSummary[] {
  return systems.map((system) => {
    const mine = runs.filter((run) => run.system === system.id);
    const ok = mine.filter((run): run is Extract<RunRecord, { ok: true }> => run.ok);
    const pick = (field: keyof Measurement): number | null => median(ok.map((run) => run[field]));
    const qps = ok.map((run) => run.qps);
    return {
      system: system.id,
      label: system.label,
      group: system.group,
      runs: ok.length,
      errors: mine.filter((run): run is Extract<RunRecord, { ok: false }> => !run.ok && run.skipped !== true).map((run) => `round ${run.round}: ${run.error}`),
      skipped: mine.find((run): run is Extract<RunRecord, { ok: false }> => !run.ok && run.skipped === true)?.error ?? null,
      calls: pick("calls"),
      failures: pick("failures"),
      qps: pick("qps"),
      qpsMin: qps.length === 0 ? null : Math.min(...qps),
      qpsMax: qps.length === 0 ? null : Math.max(...qps),
      p50Us: pick("p50Us"),
      p99Us: pick("p99Us"),
      maxUs: pick("maxUs"),
      serverCpuUsPerCall: pick("serverCpuUsPerCall"),
      clientCpuUsPerCall: pick("clientCpuUsPerCall"),
      serverPeakRssMiB: pick("serverPeakRssMiB"),
      clientPeakRssMiB: pick("clientPeakRssMiB"),
    };
  });
}

type OkRun = Extract<RunRecord, { ok: true }>;

/**
 * The ratios that say where dora stands, each computed from runs of the same
 * round (so both sides saw the same machine load), then the median over the
 * rounds. Targets are the product's performance goals.
 */
export function ratios(systems: readonly { id: string; group: SystemGroup }[], runs: readonly RunRecord[], rounds: number): RatioSummary[] {
  const groupOf = new Map(systems.map((s) => [s.id, s.group]));
  const inRound = (round: number, group: SystemGroup): OkRun[] => runs.filter((r): r is OkRun => r.ok && r.round === round && groupOf.get(r.system) === group);
  const best = (round: number, group: SystemGroup): OkRun | undefined => inRound(round, group).sort((a, b) => b.qps - a.qps)[0];
  const cpu = (run: OkRun): number | null => (run.serverCpuUsPerCall === null || run.clientCpuUsPerCall === null ? null : run.serverCpuUsPerCall + run.clientCpuUsPerCall);
  const make = (
    name: string,
    definition: string,
    target: string,
    meets: (value: number) => boolean,
    numerator: SystemGroup,
    denominator: SystemGroup,
    value: (a: OkRun, b: OkRun) => number | null,
  ): RatioSummary => {
    const perRound: (number | null)[] = [];
    for (let round = 1; round <= rounds; round++) {
      const a = best(round, numerator);
      const b = best(round, denominator);
      perRound.push(a === undefined || b === undefined ? null : value(a, b));
    }
    const mid = median(perRound);
    return { name, definition, target, met: mid === null ? null : meets(mid), perRound, median: mid };
  };
  const qpsRatio = (a: OkRun, b: OkRun): number => a.qps / b.qps;
  const withBaseline = systems.some((s) => s.group === "dora-baseline");
  const cpuRatio = (a: OkRun, b: OkRun): number | null => {
    const x = cpu(a);
    const y = cpu(b);
    return x === null || y === null ? null : x / y;
  };
  const baseline = withBaseline
    ? [
        make("dora / dora-baseline, QPS", "dora QPS ÷ the baseline build's QPS (--baseline)", "(none)", () => true, "dora", "dora-baseline", qpsRatio),
        make("dora / dora-baseline, CPU per call", "(server + client CPU µs per call) of dora ÷ that of the baseline build", "(none)", () => true, "dora", "dora-baseline", cpuRatio),
      ]
    : [];
  return [
    ...baseline,
    make("dora / raw, QPS", "dora QPS ÷ raw bound QPS", "≥ 0.6", (v) => v >= 0.6, "dora", "raw", qpsRatio),
    make(
      "dora MySQL write / dora memory read, QPS",
      "dora-mysql-write writes/s (etclient benchmark write, etserver --store mysql) ÷ dora reads/s (--store memory)",
      "≥ 0.5",
      (v) => v >= 0.5,
      "dora-mysql-write",
      "dora",
      qpsRatio,
    ),
    make("dora / raw, p99", "dora p99 ÷ raw bound p99", "≤ 1.5", (v) => v <= 1.5, "dora", "raw", (a, b) => a.p99Us / b.p99Us),
    make("dora / raw, CPU per call", "(server + client CPU µs per call) of dora ÷ that of the raw bound", "≤ 2", (v) => v <= 2, "dora", "raw", (a, b) => {
      const x = cpu(a);
      const y = cpu(b);
      return x === null || y === null ? null : x / y;
    }),
    make("dora / grpc-js, QPS", "dora QPS ÷ the better grpc-js variant's QPS", "≥ 6", (v) => v >= 6, "dora", "grpc-js", qpsRatio),
    make("dora / Connect, QPS", "dora QPS ÷ the best Connect variant's QPS", "≥ 10", (v) => v >= 10, "dora", "connect", qpsRatio),
    make("dora runtime alone / raw, QPS", "dora-runtime (same workload, runtime + generated code only) QPS ÷ raw bound QPS", "(none)", () => true, "dora-runtime", "raw", qpsRatio),
    make("npm run bench -w @dora/runtime / raw, QPS", "the runtime's own echo benchmark QPS ÷ raw bound QPS", "≥ 0.85", (v) => v >= 0.85, "runtime-bench", "raw", qpsRatio),
    make("dora / grpc-js, server-streaming messages/s", "dora-stream messages per second ÷ grpc-js-stream's", "(none)", () => true, "dora-stream", "grpc-js-stream", qpsRatio),
    make("dora / grpc-js, server-streaming p99 per message", "dora-stream p99 per message ÷ grpc-js-stream's", "(none)", () => true, "dora-stream", "grpc-js-stream", (a, b) => a.p99Us / b.p99Us),
  ].map((ratio) => (ratio.target === "(none)" ? { ...ratio, met: null } : ratio));
}

const fmt = (value: number | null, digits = 0): string => (value === null ? "—" : value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits }));

/** The report as markdown: machine, settings, the per-system table, the ratios, and profiles when taken. */
export function toMarkdown(report: BenchReport): string {
  const { machine, settings } = report;
  const lines: string[] = [];
  lines.push(`# dora benchmark comparison, ${report.startedAt}`);
  lines.push("");
  if (report.finishedAt === null) {
    lines.push(`**Incomplete: ${report.completedRuns} of ${report.plannedRuns} runs so far** (rewritten after every run).`);
    lines.push("");
  }
  lines.push(`Machine: ${machine.cpus} × ${machine.cpuModel}, Node ${machine.node}, ${machine.platform}, load average ${machine.loadAverageAtStart.toFixed(2)} at start.`);
  if (report.systems.some((s) => !s.group.endsWith("-stream"))) {
    lines.push(
      `Workload: ReadSecureMessage, ${settings.sizeBytes}-byte key and value, metadata username + token, ${settings.concurrency} callers × ${settings.requestsPerCaller.toLocaleString("en-US")} calls ` +
        `after a ${settings.warmupSeconds} s warm-up; ${settings.rounds} interleaved round(s); medians over the rounds.`,
    );
  }
  if (report.systems.some((s) => s.group === "dora-mysql-write")) {
    lines.push(
      "`dora-mysql-write` makes the same calls with WriteSecureMessage (the same key, a value of the same size) on etserver's MySQL store, values and sessions in Redis; there QPS is writes per second.",
    );
  }
  if (report.systems.some((s) => s.group.endsWith("-stream"))) {
    lines.push(
      `Streaming (\`*-stream\` rows): server-streaming WatchSecureMessage, streams of ${settings.messagesPerStream.toLocaleString("en-US")} messages, each the ${settings.sizeBytes}-byte key and value, ` +
        `${settings.concurrency} callers × ${settings.requestsPerCaller.toLocaleString("en-US")} messages; there QPS is messages per second, calls are messages, ` +
        "latency is per message (time since the previous message of its stream, or since the stream opened) and CPU is per message.",
    );
  }
  lines.push("");
  lines.push("| system | QPS | QPS range | p50 µs | p99 µs | max µs | server CPU µs/call | client CPU µs/call | server RSS MiB | client RSS MiB | calls | failures |");
  lines.push("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
  for (const s of report.systems) {
    if (s.runs === 0) {
      lines.push(`| ${s.system} | ${s.skipped !== null && s.errors.length === 0 ? "skipped" : "failed"} | | | | | | | | | | |`);
      continue;
    }
    lines.push(
      `| ${s.system} | ${fmt(s.qps)} | ${fmt(s.qpsMin)}–${fmt(s.qpsMax)} | ${fmt(s.p50Us)} | ${fmt(s.p99Us)} | ${fmt(s.maxUs)} | ${fmt(s.serverCpuUsPerCall, 1)} | ${fmt(s.clientCpuUsPerCall, 1)} | ${fmt(s.serverPeakRssMiB)} | ${fmt(s.clientPeakRssMiB)} | ${fmt(s.calls)} | ${fmt(s.failures)} |`,
    );
  }
  lines.push("");
  lines.push("| ratio (same round) | median | per round | target | met |");
  lines.push("|---|--:|---|--:|:-:|");
  for (const r of report.ratios) {
    const perRound = r.perRound.map((v) => fmt(v, 2)).join(", ");
    lines.push(`| ${r.name} | ${fmt(r.median, 2)} | ${perRound} | ${r.target} | ${r.met === null ? "" : r.met ? "yes" : "no"} |`);
  }
  lines.push("");
  lines.push("Systems:");
  for (const s of report.systems) lines.push(`- \`${s.system}\`: ${s.label}`);
  const skipped = report.systems.filter((s) => s.skipped !== null).map((s) => `- \`${s.system}\`: ${s.skipped}`);
  if (skipped.length > 0) {
    lines.push("");
    lines.push("Skipped systems:");
    lines.push(...skipped);
  }
  const errors = report.systems.flatMap((s) => s.errors.map((e) => `- \`${s.system}\` ${e}`));
  if (errors.length > 0) {
    lines.push("");
    lines.push("Failed runs:");
    lines.push(...errors);
  }
  if (report.profiles !== undefined && report.profiles.length > 0) {
    lines.push("");
    lines.push("## CPU profiles: top self time");
    for (const p of report.profiles) {
      lines.push("");
      lines.push(`### ${p.process} (${fmt(p.totalMs)} ms sampled, ${fmt(p.busyMs)} ms busy)`);
      lines.push("");
      lines.push("| self ms | % of busy | area |");
      lines.push("|--:|--:|---|");
      const shown = p.byArea.filter((a) => a.selfPercent >= 0.5);
      for (const a of shown) lines.push(`| ${fmt(a.selfMs)} | ${fmt(a.selfPercent, 1)} | ${a.area} |`);
      const rest = p.byArea.slice(shown.length);
      if (rest.length > 0) {
        const ms = rest.reduce((sum, a) => sum + a.selfMs, 0);
        const pct = rest.reduce((sum, a) => sum + a.selfPercent, 0);
        lines.push(`| ${fmt(ms)} | ${fmt(pct, 1)} | ${rest.length} more areas under 0.5 % each |`);
      }
      lines.push("");
      lines.push("| self ms | % of busy | function | location |");
      lines.push("|--:|--:|---|---|");
      for (const t of p.top) lines.push(`| ${fmt(t.selfMs)} | ${fmt(t.selfPercent, 1)} | ${t.function} | ${t.location} |`);
    }
  }
  return `${lines.join("\n")}\n`;
}
