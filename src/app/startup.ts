/**
 * Where start-up goes, phase by phase, logged with "gatehouse serving" (and printed by the
 * footprint bench): from the process's start (`performance.now()` counts from it) to the
 * server's entry (node, the CLI, the configuration and the server's modules loaded), then
 * each phase of `startGatehouse`, and the process's CPU time at the end.
 */
export interface StartupTimeline {
  /** Marks the end of a phase named `name`, measured from the previous mark. */
  mark(name: string): void;
  /** Milliseconds per phase, `readyMs` since the process started and `cpuMs` used so far. */
  phases(): Readonly<Record<string, number>>;
}

export function startupTimeline(): StartupTimeline {
  const entered = performance.now();
  const phases: Record<string, number> = { bootMs: Math.round(entered) };
  let last = entered;
  return {
    mark(name) {
      const now = performance.now();
      phases[`${name}Ms`] = Math.round(now - last);
      last = now;
    },
    phases() {
      const { user, system } = process.cpuUsage();
      return { ...phases, readyMs: Math.round(last), cpuMs: Math.round((user + system) / 1000) };
    },
  };
}
