import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { promisify } from "node:util";
import { fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { REST_SERVICES } from "../index.js";
import { openApiDocument } from "./document.js";
import { protoComments } from "./proto-comments.js";

const run = promisify(execFile);

/** Where the document is committed (and what the sidecar serves at /openapi.json). */
export const OPENAPI_FILE = new URL("../../../docs/openapi.json", import.meta.url);

/**
 * The document's text: the REST routes' descriptors, the comments from `buf build` (the
 * same proto/, with source info, which gen/ leaves out), two-space JSON and a final newline.
 */
export async function generateOpenApi(): Promise<string> {
  const { stdout } = await run("npx", ["buf", "build", "--output", "-#format=binpb"], {
    encoding: "buffer",
    maxBuffer: 64 * 1024 * 1024,
  });
  const comments = protoComments(fromBinary(FileDescriptorSetSchema, stdout));
  return `${JSON.stringify(openApiDocument(REST_SERVICES, comments), null, 2)}\n`;
}

// `npm run openapi`: regenerate docs/openapi.json.
if (import.meta.url === `file://${process.argv[1]}`) {
  await writeFile(OPENAPI_FILE, await generateOpenApi());
}
