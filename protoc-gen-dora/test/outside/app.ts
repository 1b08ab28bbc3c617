// The shop application of the outside-project test (outside-project.test.ts):
// implements the four services of proto/, serves them on a dora server and
// calls every method through the generated clients, then prints "ok" and the
// calls made; any surprise exits non-zero. The test compiles it against every
// flavour of generated code (ES modules and CommonJS), so it uses no
// top-level await and no import.meta.
import { setTimeout as sleep } from "node:timers/promises";
import { create } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, createClient, createServer, DoraError } from "@dora/runtime";
import { CatalogService, createCatalogServiceClient, registerCatalogService } from "./gen/shop/catalog/v1/catalog_dora.js";
import { Category, ProductSchema } from "./gen/shop/catalog/v1/catalog_pb.js";
import { createOrderServiceClient, createReceiptServiceClient, OrderService, ReceiptService, registerOrderService, registerReceiptService } from "./gen/shop/order/v1/order_dora.js";
import { Order_State, OrderSchema, type Order } from "./gen/shop/order/v1/order_pb.js";
import { AdminService, createAdminServiceClient } from "./gen/shop/order/v1/admin_dora.js";

const opened = new Date("2024-01-02T03:04:05.000Z");
const products = [
  create(ProductSchema, { id: "p1", name: "Structure and Interpretation", category: Category.BOOK, price: { currency: "EUR", cents: 4200n }, addedAt: timestampFromDate(opened) }),
  create(ProductSchema, { id: "p2", name: "Hammer", category: Category.TOOL, price: { currency: "EUR", cents: 1500n } }),
];
const orders = new Map<string, Order>();

const catalog: CatalogService = {
  async getProduct(request) {
    const product = products.find((p) => p.id === request.id);
    if (product === undefined) throw new DoraError(Code.NotFound, `no product ${request.id}`);
    return product;
  },
  async listProducts(request) {
    return { products: products.filter((p) => request.category === Category.UNSPECIFIED || p.category === request.category) };
  },
  async updatedAt() {
    return timestampFromDate(opened);
  },
};

function findOrder(id: string): Order {
  const order = orders.get(id);
  if (order === undefined) throw new DoraError(Code.NotFound, `no order ${id}`);
  return order;
}

const orderService: OrderService = {
  async placeOrder(request) {
    const order = create(OrderSchema, { id: `o${orders.size + 1}`, lines: request.lines, state: Order_State.PLACED, placedAt: timestampFromDate(opened) });
    orders.set(order.id, order);
    return order;
  },
  async getOrder(request) {
    return findOrder(request.id);
  },
  async cancelOrder(request) {
    const order = findOrder(request.id);
    if (order.state === Order_State.CANCELED) throw new DoraError(1001, "order already canceled");
    order.state = Order_State.CANCELED;
    return {};
  },
};

const receipts: ReceiptService = {
  async firstLine(order) {
    const line = order.lines[0];
    if (line === undefined) throw new DoraError(Code.BadRequest, "the order has no lines");
    return line;
  },
};

const admin: AdminService = {
  async now() {
    return timestampFromDate(opened);
  },
  async wait(request, context) {
    await sleep(request.ms, undefined, { signal: context.signal });
    return {};
  },
  async count(request) {
    return { orders: BigInt([...orders.values()].filter((o) => o.state === request.state).length) };
  },
  async *tail(request) {
    for (const order of orders.values()) if (order.state === request.state) yield order;
  },
  async tally(requests) {
    let n = 0n;
    for await (const order of requests) if (order.id !== "") n++;
    return { orders: n };
  },
  async *relay(requests) {
    for await (const ref of requests) yield { id: `re ${ref.id}` };
  },
};

async function* each<T>(...items: T[]): AsyncIterable<T> {
  for (const item of items) yield item;
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

async function failure(call: Promise<unknown>): Promise<DoraError> {
  const err = await call.then(() => undefined, (e: unknown) => e);
  if (!(err instanceof DoraError)) throw new Error(`expected a DoraError, got ${String(err)}`);
  return err;
}

async function main(): Promise<void> {
  const server = createServer();
  registerCatalogService(server, catalog);
  registerOrderService(server, orderService);
  registerReceiptService(server, receipts);
  // The descriptor, imported under the interface's name, registers too.
  server.register(AdminService, admin);
  const { port } = await server.listen({ host: "127.0.0.1", port: 0 });
  const client = createClient({ address: `127.0.0.1:${port}`, timeoutMs: 5000 });
  const calls: string[] = [];
  const check = (what: string, ok: boolean): void => {
    if (!ok) throw new Error(`unexpected result of ${what}`);
    calls.push(what);
  };
  try {
    const shop = createCatalogServiceClient(client);
    const book = await shop.getProduct({ id: "p1" });
    check("GetProduct", book.name === "Structure and Interpretation" && book.price?.cents === 4200n && book.addedAt !== undefined && timestampDate(book.addedAt).getTime() === opened.getTime());
    const missing = await failure(shop.getProduct({ id: "p9" }));
    check("GetProduct:NotFound", missing.code === Code.NotFound && missing.rawMessage === "no product p9");
    const tools = await shop.listProducts({ category: Category.TOOL });
    check("ListProducts", tools.products.length === 1 && tools.products[0]?.id === "p2");
    check("UpdatedAt", timestampDate(await shop.updatedAt({})).getTime() === opened.getTime());

    const ordering = createOrderServiceClient(client);
    const placed = await ordering.placeOrder({ lines: [{ product: book, quantity: 2 }] });
    check("PlaceOrder", placed.id === "o1" && placed.state === Order_State.PLACED && placed.lines[0]?.quantity === 2);
    check("GetOrder", (await ordering.getOrder({ id: "o1" })).lines[0]?.product?.id === "p1");
    check("CancelOrder", (await ordering.cancelOrder({ id: "o1" })).$typeName === "google.protobuf.Empty");
    const twice = await failure(ordering.cancelOrder({ id: "o1" }));
    check("CancelOrder:1001", twice.code === 1001 && twice.rawMessage === "order already canceled");

    const line = await createReceiptServiceClient(client).firstLine(placed);
    check("FirstLine", line.product?.name === book.name && line.quantity === 2);

    const adminClient = createAdminServiceClient(client);
    check("Now", timestampDate(await adminClient.now({})).getTime() === opened.getTime());
    check("Wait", (await adminClient.wait({ ms: 1 })).$typeName === "google.protobuf.Empty");
    const late = await failure(adminClient.wait({ ms: 60_000 }, { timeoutMs: 100 }));
    check("Wait:DeadlineExceeded", late.code === Code.DeadlineExceeded);
    check("Count", (await adminClient.count({ state: Order_State.CANCELED })).orders === 1n);
    check("Tail", (await collect(adminClient.tail({ state: Order_State.CANCELED }))).map((o) => o.id).join() === "o1");
    check("Tally", (await adminClient.tally(each(placed, placed))).orders === 2n);
    check("Relay", (await collect(adminClient.relay(each({ id: "a" }, { id: "b" })))).map((r) => r.id).join() === "re a,re b");
    check("descriptors", AdminService.typeName === "shop.order.v1.AdminService" && CatalogService.method.getProduct.name === "GetProduct");
    console.log(`ok ${calls.join(" ")}`);
  } finally {
    await client.close();
    await server.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
