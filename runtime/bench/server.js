// Benchmark server process: serves EchoService on 127.0.0.1, prints its port.
import { createServer } from "@dora/runtime";
import { EchoService } from "./echo-service.js";

const server = createServer();
server.register(EchoService, {
  async echo(req) {
    return { status: 0, value: req.key };
  },
});
const { port } = await server.listen({ host: "127.0.0.1", port: 0 });
process.stdout.write(`${port}\n`);
process.on("SIGTERM", () => void server.close().then(() => process.exit(0)));
process.on("disconnect", () => void server.close().then(() => process.exit(0)));
