import type { CapabilityRecord, MoneyRecord, TimeWindowRecord } from "../../store/ports.js";

/**
 * Plain English for what an approver decides on. Every phrase is built from stored values
 * and shown by the page as text, never as markup.
 */

/** "transact on payments/eur", "read any resource", "refund on orders". */
export function capabilityWords(capability: CapabilityRecord): string {
  const verb = capability.action === "custom" ? (capability.name ?? "") : capability.action;
  return capability.resource ? `${verb} on ${capability.resource}` : `${verb} any resource`;
}

const UNITS: readonly (readonly [string, number])[] = [
  ["day", 86_400_000],
  ["hour", 3_600_000],
  ["minute", 60_000],
  ["second", 1_000],
];

/** "2 hours", "1 day 6 hours", "1 minute 30 seconds". */
export function durationWords(ms: number): string {
  const parts: string[] = [];
  let rest = ms;
  for (const [unit, size] of UNITS) {
    const count = Math.floor(rest / size);
    rest -= count * size;
    if (count > 0) parts.push(`${count} ${unit}${count === 1 ? "" : "s"}`);
  }
  return parts.length > 0 ? parts.join(" ") : "less than a second";
}

/** "per day", "per 7 days". */
export function perWords(ms: number): string {
  return `per ${durationWords(ms).replace(/^1 ([a-z]+)$/, "$1")}`;
}

/** "EUR 1,234.50" from minor units (the currency's own number of decimals). */
export function moneyWords(money: MoneyRecord): string {
  const digits =
    new Intl.NumberFormat("en", { style: "currency", currency: money.currency }).resolvedOptions()
      .maximumFractionDigits ?? 2;
  const amount = (money.minorUnits / 10 ** digits).toLocaleString("en", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
  return `${money.currency} ${amount}`;
}

const WEEKDAYS = ["", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/** "Mon, Tue 09:00–17:00 UTC", "every day 22:00–24:00 UTC". */
export function timeWindowWords(window: TimeWindowRecord): string {
  const days =
    window.days.length === 0 ? "every day" : window.days.map((d) => WEEKDAYS[d] ?? "?").join(", ");
  return `${days} ${clock(window.startMinute)}–${clock(window.endMinute)} UTC`;
}

function clock(minuteOfDay: number): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${pad(Math.floor(minuteOfDay / 60))}:${pad(minuteOfDay % 60)}`;
}
