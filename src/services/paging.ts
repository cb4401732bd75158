import { invalidArgument } from "../errors/index.js";

/** Items per page when a list request names no page size. */
export const DEFAULT_PAGE_SIZE = 50;

export interface PageRequest {
  /** 0 means DEFAULT_PAGE_SIZE; the contract bounds it. */
  readonly pageSize: number;
  /** Empty for the first page, else the `next_page_token` of the previous one. */
  readonly pageToken: string;
}

export interface Page<T> {
  readonly items: T[];
  /** Empty on the last page. */
  readonly nextPageToken: string;
}

/**
 * One page of a short list held in memory in a stable order (signing keys, approvers). The
 * token is the id of the previous page's last item (URL-safe ids only); a token naming no
 * item is refused, never silently restarted from the first page.
 */
export function pageOf<T>(
  items: readonly T[],
  idOf: (item: T) => string,
  request: PageRequest,
): Page<T> {
  let start = 0;
  if (request.pageToken !== "") {
    start = items.findIndex((item) => idOf(item) === request.pageToken) + 1;
    if (start === 0) throw invalidArgument("page_token", "is not a token this server issued");
  }
  const end = start + (request.pageSize || DEFAULT_PAGE_SIZE);
  const page = items.slice(start, end);
  const last = page.at(-1);
  return { items: page, nextPageToken: last && end < items.length ? idOf(last) : "" };
}
