import { readFile } from "node:fs/promises";
import type { Asset } from "./http/response.js";

/** The page's static files, hand-written, beside this module. */
const FILES = {
  "approve.html": "text/html; charset=utf-8",
  "enroll.html": "text/html; charset=utf-8",
  "app.js": "text/javascript; charset=utf-8",
  "app.css": "text/css; charset=utf-8",
} as const;

export type AssetName = keyof typeof FILES;
export type Assets = Readonly<Record<AssetName, Asset>>;

/** Reads every asset once, at start: a missing file fails the start, not a request. */
export async function loadAssets(): Promise<Assets> {
  const entries = await Promise.all(
    Object.entries(FILES).map(async ([name, contentType]) => {
      const body = await readFile(new URL(`./assets/${name}`, import.meta.url));
      return [name, { contentType, body }] as const;
    }),
  );
  return Object.fromEntries(entries) as Assets;
}
