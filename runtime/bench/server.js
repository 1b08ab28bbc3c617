// Benchmark server process: serves EchoService on 127.0.0.1, prints its port.
// DORA_RUNTIME names the runtime build to load (a path to its dist/index.js);
// default: the workspace's @dora/runtime.
import { pathToFileURL } from "node:url";
import { EchoService } from "./echo-service.js";

const runtime = process.env.DORA_RUNTIME;
const { createServer } = await import(runtime === undefined || runtime === "" ? "@dora/runtime" : pathToFileURL(runtime).href);

const server = createServer();
server.register(EchoService, {
  async echo(req) {
    return { status: 0, value: req.key };
  },
});
const { port } = await server.listen({ host: "127.0.0.1", port: 0 });
process.stdout.write(`${port}\n`);
// The parent asks for this process's CPU time around a measured run.
process.on("message", (m) => {
  if (m === "cpu") process.send(process.cpuUsage());
});
process.on("SIGTERM", () => void server.close().then(() => process.exit(0)));
process.on("disconnect", () => void server.close().then(() => process.exit(0)));
