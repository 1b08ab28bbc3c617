#!/usr/bin/env node
// `npm start`: starts etserver on the embedded store (plaintext, 127.0.0.1, a
// free port), runs a short etclient session against it, and stops the server.
// Exits non-zero when the server does not come up or a step that must succeed fails.
import { spawn, spawnSync } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const etserver = fileURLToPath(new URL("../examples/etserver/bin/etserver.js", import.meta.url));
const etclient = fileURLToPath(new URL("../examples/etclient/bin/etclient.js", import.meta.url));

const server = spawn(process.execPath, [etserver, "serve", "--listen", "127.0.0.1:0", "--store", "memory", "--no-tls", "--log-level", "warn"], {
  cwd: root,
  stdio: ["ignore", "pipe", "inherit"],
});

const address = await new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error("etserver did not start within 20 s")), 20000);
  server.once("exit", (code) => reject(new Error(`etserver exited with code ${code} before listening`)));
  const lines = createInterface({ input: server.stdout });
  lines.once("line", (line) => {
    clearTimeout(timer);
    const m = /^etserver listening on (\S+)$/.exec(line);
    if (m === null) reject(new Error(`unexpected first line from etserver: ${line}`));
    else resolve(m[1]);
  });
}).catch((err) => {
  console.error(`npm start: ${err.message}`);
  server.kill("SIGTERM");
  process.exit(1);
});
server.removeAllListeners("exit");
console.log(`etserver listening on ${address} (memory store: users 1..1000001, password = username)\n`);

const steps = [
  { args: ["login", "-u", "100", "-p", "100"], ok: true, say: "log in" },
  { args: ["read", "-u", "100", "-p", "100", "-k", "a"], ok: false, say: "read without logging in first: the server says Unauthenticated" },
  { args: ["login,write,read", "-u", "100", "-p", "100", "-k", "b", "-v", "n"], ok: true, say: "log in, write b = n, read it back, in one process" },
  { args: ["login,read", "-u", "100", "-p", "100", "-k", "z"], ok: true, say: "read a key that was never written" },
  { args: ["login", "-u", "100", "-p", "wrong"], ok: false, say: "a wrong password" },
  { args: ["benchmark", "read", "-u", "100000", "-p", "100000", "-k", "c", "-c", "12", "-r", "1000"], ok: true, say: "benchmark: 12 workers x 1000 reads" },
];

let failed = 0;
for (const step of steps) {
  console.log(`$ etclient ${step.args.join(" ")}    # ${step.say}`);
  const r = spawnSync(process.execPath, [etclient, ...step.args, "--address", address], { cwd: root, stdio: "inherit" });
  const succeeded = r.status === 0;
  if (succeeded !== step.ok) {
    failed++;
    console.error(`npm start: expected ${step.ok ? "success" : "a failure"}, got exit code ${r.status}`);
  }
  console.log("");
}

server.kill("SIGTERM");
await new Promise((resolve) => server.once("exit", resolve));
console.log(failed === 0 ? "demo finished: every step behaved as expected; etserver stopped" : `demo finished with ${failed} unexpected result(s)`);
process.exit(failed === 0 ? 0 : 1);
