import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { create, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate, TimestampSchema } from "@bufbuild/protobuf/wkt";
import { Code, createClient, createServer, DoraError, jsonCodec, type Client, type Codec, type HandlerContext, type Server } from "@dora/runtime";
import { createEchoServiceClient, createPetServiceClient, EchoService, EchoServiceMethodNames, registerEchoService, registerPetService } from "./gen/dora/test/v1/services_dora.js";
import { EchoService as EchoServiceDescriptor, EchoResponseSchema, type EchoRequest } from "./gen/dora/test/v1/services_pb.js";
import { Pet_Kind, PetSchema } from "./gen/dora/test/v1/types_pb.js";
import { ClientMethodNames, createClientClient, registerClient, type Client as ReservedClientService } from "./gen/dora/test/v1/reserved_dora.js";
import { createPetStoreServiceClient, registerPetStoreService } from "./gen/dora/test/common/v1/common_dora.js";
import { createLegacyServiceClient, registerLegacyService } from "./gen/dora/test/legacy/v1/legacy_dora.js";
import { createEditionsServiceClient, registerEditionsService } from "./gen/dora/test/editions/v1/editions_dora.js";

/**
 * Generated services registered on a real dora Server and called through the
 * generated clients over loopback (SPEC §5, behaviour tier).
 */

/** Counts what the server decodes with the json codec, to prove the json client really sends json. */
let jsonDecodes = 0;
const countingJsonCodec: Codec = {
  name: "json",
  encode: (schema, message) => jsonCodec.encode(schema, message),
  decode<D extends DescMessage>(schema: D, bytes: Uint8Array): MessageShape<D> {
    jsonDecodes++;
    return jsonCodec.decode(schema, bytes);
  },
};

const fixedNow = new Date("2024-05-06T07:08:09.010Z");

const echo: EchoService = {
  async echo(request: EchoRequest, context: HandlerContext) {
    Object.assign(context.responseMeta, request.replyMeta);
    return { text: request.text, seenMeta: { ...context.requestMeta, method: context.method } };
  },
  async fail(request) {
    throw new DoraError(request.code, request.message);
  },
  async now() {
    return timestampFromDate(fixedNow);
  },
  async since(request) {
    if (timestampDate(request).getTime() !== fixedNow.getTime()) {
      throw new DoraError(Code.BadRequest, `unexpected timestamp ${timestampDate(request).toISOString()}`);
    }
    return {};
  },
  async oldEcho(request) {
    return create(EchoResponseSchema, { text: `old ${request.text}` });
  },
};

const reserved: ReservedClientService = {
  async delete(thing, context) {
    return { id: `delete ${thing.id} via ${context.method}` };
  },
  async "new"(thing, context) {
    return { id: `new ${thing.id} via ${context.method}` };
  },
  async constructor$(thing, context) {
    return { id: `constructor ${thing.id} via ${context.method}` };
  },
  async toString$(thing, context) {
    return { id: `toString ${thing.id} via ${context.method}` };
  },
};

let server: Server;
let partialServer: Server;
let protoClient: Client;
let jsonClient: Client;
let partialClient: Client;

beforeAll(async () => {
  server = createServer({ codecs: [countingJsonCodec] });
  registerEchoService(server, echo);
  registerPetService(server, {
    async list(request) {
      return { pets: [{ name: `page of ${request.pageSize}`, kind: Pet_Kind.CAT }], nextPageToken: "next" };
    },
    async find(request) {
      return { pet: { name: `${request.namePrefix}rex`, kind: Pet_Kind.DOG }, score: 0.5 };
    },
    async getPet(request) {
      return { name: request.filter?.namePrefix ?? "none" };
    },
  });
  registerPetStoreService(server, {
    async adopt(pet) {
      return { pets: [pet], nextPageToken: "" };
    },
  });
  registerClient(server, reserved);
  registerLegacyService(server, {
    async get(request) {
      return { value: `${request.key}@${request.version}` };
    },
  });
  registerEditionsService(server, {
    async count(request) {
      return { words: request.text.split(/\s+/).filter((w) => w.length >= request.minimumLength).length };
    },
  });
  const { port } = await server.listen({ port: 0 });
  protoClient = createClient({ address: `127.0.0.1:${port}`, poolSize: 1 });
  jsonClient = createClient({ address: `127.0.0.1:${port}`, poolSize: 1, serializeType: "json" });

  // A server whose implementation lacks methods at run time, registered
  // through the descriptor that services_dora.ts exports as EchoService.
  partialServer = createServer();
  partialServer.register(EchoService, { echo: echo.echo });
  const partial = await partialServer.listen({ port: 0 });
  partialClient = createClient({ address: `127.0.0.1:${partial.port}`, poolSize: 1 });
});

afterAll(async () => {
  await Promise.all([protoClient?.close(), jsonClient?.close(), partialClient?.close()]);
  await Promise.all([server?.close(), partialServer?.close()]);
});

async function rejection(p: Promise<unknown>): Promise<DoraError> {
  const err: unknown = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(DoraError);
  return err as DoraError;
}

describe.each([
  ["proto", () => protoClient],
  ["json", () => jsonClient],
])("generated client and server over loopback (%s codec)", (codec, client) => {
  it("calls a method with request metadata and receives response metadata", async () => {
    const before = jsonDecodes;
    const responseMeta: Record<string, string>[] = [];
    const res = await createEchoServiceClient(client()).echo(
      { text: "hello", replyMeta: { answer: "42" } },
      { meta: { username: "ann" }, onResponseMeta: (m) => responseMeta.push(m) },
    );
    expect(res.text).toBe("hello");
    expect(res.seenMeta).toEqual({ username: "ann", method: EchoServiceMethodNames.echo });
    expect(EchoServiceMethodNames.echo).toBe("/dora.test.v1.EchoService/Echo");
    expect(responseMeta).toEqual([{ answer: "42" }]);
    expect(jsonDecodes - before).toBe(codec === "json" ? 1 : 0);
  });

  it("surfaces a handler error with its code and message", async () => {
    const err = await rejection(createEchoServiceClient(client()).fail({ code: Code.NotFound, message: "no such thing" }));
    expect(err.code).toBe(Code.NotFound);
    expect(err.rawMessage).toBe("no such thing");
    const app = await rejection(createEchoServiceClient(client()).fail({ code: 1042, message: "application code" }));
    expect(app.code).toBe(1042);
    expect(app.rawMessage).toBe("application code");
  });

  it("takes and returns google.protobuf.Empty and Timestamp", async () => {
    const echoClient = createEchoServiceClient(client());
    const now = await echoClient.now({});
    expect(now.$typeName).toBe("google.protobuf.Timestamp");
    expect(timestampDate(now).toISOString()).toBe(fixedNow.toISOString());
    const empty = await echoClient.since(create(TimestampSchema, timestampFromDate(fixedNow)));
    expect(empty.$typeName).toBe("google.protobuf.Empty");
    const err = await rejection(echoClient.since(timestampFromDate(new Date(0))));
    expect(err.code).toBe(Code.BadRequest);
  });

  it("calls a deprecated rpc", async () => {
    expect((await createEchoServiceClient(client()).oldEcho({ text: "x" })).text).toBe("old x");
  });

  it("passes nested messages and messages of another package", async () => {
    const pets = createPetServiceClient(client());
    const page = await pets.list({ pageSize: 3 });
    expect(page.$typeName).toBe("dora.test.common.v1.Page");
    expect(page.pets.map((p) => [p.name, p.kind])).toEqual([["page of 3", Pet_Kind.CAT]]);
    const match = await pets.find({ namePrefix: "t-" });
    expect(match.$typeName).toBe("dora.test.v1.Query.Result.Match");
    expect(match.pet?.name).toBe("t-rex");
    expect(match.score).toBe(0.5);
    expect((await pets.getPet({ filter: { namePrefix: "tom" } })).name).toBe("tom");
    const adopted = await createPetStoreServiceClient(client()).adopt(create(PetSchema, { name: "kit", kind: Pet_Kind.CAT }));
    expect(adopted.pets[0]?.name).toBe("kit");
  });

  it("calls rpcs whose names are reserved words, on a service named Client", async () => {
    const c = createClientClient(client());
    expect((await c.delete({ id: "1" })).id).toBe(`delete 1 via ${ClientMethodNames.delete}`);
    expect((await c.new({ id: "2" })).id).toBe("new 2 via /dora.test.v1.Client/new");
    expect((await c.constructor$({ id: "3" })).id).toBe("constructor 3 via /dora.test.v1.Client/constructor");
    expect((await c.toString$({ id: "4" })).id).toBe("toString 4 via /dora.test.v1.Client/toString");
  });

  it("serves proto2 (with defaults) and editions services", async () => {
    expect((await createLegacyServiceClient(client()).get({ key: "k" })).value).toBe("k@7");
    expect((await createLegacyServiceClient(client()).get({ key: "k", version: 2 })).value).toBe("k@2");
    expect((await createEditionsServiceClient(client()).count({ text: "a bb ccc", minimumLength: 2 })).words).toBe(2);
  });
});

describe("the descriptor exported by the _dora file", () => {
  it("is protoc-gen-es's descriptor object itself", () => {
    expect(EchoService).toBe(EchoServiceDescriptor);
    expect(EchoService.typeName).toBe("dora.test.v1.EchoService");
  });
});

describe("a registered implementation that lacks a method", () => {
  it("answers Unimplemented for the missing method and serves the others", async () => {
    const c = createEchoServiceClient(partialClient);
    expect((await c.echo({ text: "still here" })).text).toBe("still here");
    const err = await rejection(c.now({}));
    expect(err.code).toBe(Code.Unimplemented);
  });
});
