import { describeOutsideProject } from "./outside-project.js";

// TypeScript 7 is what `npm install --save-dev typescript` installs today; with
// @bufbuild/protobuf 2.13.0, the bottom of the runtime's peer range (SPEC §9).
describeOutsideProject("7.0.2", "2.13.0");
