import { describeOutsideProject } from "./outside-project.js";

// TypeScript 6.0, the version this repository builds with; with
// @bufbuild/protobuf 2.17.0, the newest that runs on Node 20 (SPEC §9).
describeOutsideProject("6.0.3", "2.17.0");
