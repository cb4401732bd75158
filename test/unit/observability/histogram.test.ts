import { AggregatorRegistry, Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { FastHistogram } from "../../../src/observability/histogram.js";

const BUCKETS = [0.001, 0.01, 0.1, 1];
const SPEC = { name: "test_duration_seconds", help: "a duration", labelNames: ["op", "how"] };
/** On a bound, just past it, between, above every bound, zero, a label value to escape. */
const OBSERVATIONS: readonly [string, string, number][] = [
  ["get", "ok", 0.001],
  ["get", "ok", 0.0011],
  ["get", "ok", 0.05],
  ["get", "ok", 3],
  ["put", 'quote"back\\slash', 0],
  ["put", 'quote"back\\slash', 0.5],
];

/** The same observations on prom-client's Histogram and on FastHistogram, each in a registry. */
function both() {
  const reference = new Registry();
  const fast = new Registry();
  const promHistogram = new Histogram({ ...SPEC, buckets: BUCKETS, registers: [reference] });
  const fastHistogram = new FastHistogram({ ...SPEC, buckets: BUCKETS, registers: [fast] });
  for (const [op, how, value] of OBSERVATIONS) {
    promHistogram.labels(op, how).observe(value);
    fastHistogram.labels(op, how).observe(value);
  }
  return { reference, fast, fastHistogram };
}

describe("FastHistogram", () => {
  it("prints exactly what prom-client's Histogram prints for the same observations", async () => {
    const { reference, fast } = both();
    expect(await fast.metrics()).toBe(await reference.metrics());
    // prom-client adds `exemplar: null` to each sample; Gatehouse records no exemplars.
    const withoutExemplars = (metrics: Awaited<ReturnType<Registry["getMetricsAsJSON"]>>) =>
      metrics.map(({ values, ...metric }) => ({
        ...metric,
        values: values.map((value) => {
          const { exemplar: _, ...rest } = value as typeof value & { exemplar?: unknown };
          return rest;
        }),
      }));
    expect(await fast.getMetricsAsJSON()).toEqual(
      withoutExemplars(await reference.getMetricsAsJSON()),
    );
  });

  it("adds up across workers as prom-client's histograms do (AggregatorRegistry)", async () => {
    const one = both();
    const two = both();
    const fast = AggregatorRegistry.aggregate([
      await one.fast.getMetricsAsJSON(),
      await two.fast.getMetricsAsJSON(),
    ]);
    const reference = AggregatorRegistry.aggregate([
      await one.reference.getMetricsAsJSON(),
      await two.reference.getMetricsAsJSON(),
    ]);
    expect(await fast.metrics()).toBe(await reference.metrics());
    expect(await fast.metrics()).toContain('test_duration_seconds_count{op="get",how="ok"} 8');
  });

  it("keeps observers bound across a reset, and counts from zero after it", async () => {
    const { fast, fastHistogram } = both();
    const get = fastHistogram.labels("get", "ok");
    fast.resetMetrics();
    expect(await fast.metrics()).not.toContain("_count");
    get.observe(0.002);
    const text = await fast.metrics();
    expect(text).toContain('test_duration_seconds_bucket{le="0.001",op="get",how="ok"} 0');
    expect(text).toContain('test_duration_seconds_bucket{le="0.01",op="get",how="ok"} 1');
    expect(text).toContain('test_duration_seconds_count{op="get",how="ok"} 1');
  });

  it("leaves a bound series out until it observes, and ignores values that are not finite", async () => {
    const registry = new Registry();
    const histogram = new FastHistogram({ ...SPEC, buckets: BUCKETS, registers: [registry] });
    const series = histogram.labels("get", "ok");
    expect(await registry.metrics()).not.toContain("_bucket");
    series.observe(Number.NaN);
    series.observe(Number.POSITIVE_INFINITY);
    expect(await registry.metrics()).not.toContain("_bucket");
  });

  it("refuses a wrong number of label values and buckets that are not ascending", () => {
    const histogram = new FastHistogram({ ...SPEC, buckets: BUCKETS, registers: [] });
    expect(() => histogram.labels("get")).toThrow(/1 label values for 2 names/);
    expect(() => new FastHistogram({ ...SPEC, buckets: [1, 0.1], registers: [] })).toThrow(
      /ascending/,
    );
    expect(() => new FastHistogram({ ...SPEC, buckets: [1, Infinity], registers: [] })).toThrow(
      /finite/,
    );
  });
});
