/**
 * The `Pkg` envelope as protobuf-es sees it, compiled from protocol/pkg.proto:
 * the reference the hand-written codec is tested against.
 * Internal module (excluded from the build).
 */
import type { DescMessage } from "@bufbuild/protobuf";
import path from "node:path";
import { loadProto, runtimeSrc } from "./load-proto.js";

const registry = loadProto(path.join(runtimeSrc, "protocol"), "pkg.proto");

/** `protocol.Pkg` */
export const PkgSchema: DescMessage = registry.getMessage("protocol.Pkg")!;
/** `protocol.Head` */
export const HeadSchema: DescMessage = registry.getMessage("protocol.Head")!;
