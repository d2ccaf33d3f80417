// TanStack Query hooks over the API: one place for query keys, so a mutation can invalidate
// exactly what it changed.
import { useQueries, useQuery } from "@tanstack/react-query";
import { call, client, type Experiment, type FaultlineEvent, type Run } from "./api";
import { TERMINAL_PHASES } from "./format";

export interface ExperimentFilters {
  status?: Experiment["status"];
  namespace?: string;
  verdict?: NonNullable<Experiment["verdict"]>;
}

export function useExperiments(filters: ExperimentFilters = {}, limit = 100) {
  return useQuery({
    queryKey: ["experiments", filters, limit],
    queryFn: () =>
      call(client.GET("/api/v1/experiments", { params: { query: { ...filters, limit } } })),
    refetchInterval: 5000,
  });
}

export function useRuns(experimentId: number | undefined, live = false) {
  return useQuery({
    queryKey: ["runs", experimentId],
    enabled: experimentId !== undefined,
    queryFn: () =>
      call(
        client.GET("/api/v1/experiments/{experiment_id}/runs", {
          params: { path: { experiment_id: experimentId! }, query: { limit: 100 } },
        }),
      ),
    refetchInterval: live ? 2000 : 10000,
  });
}

/** Runs of many experiments at once (the overview's trends and recent events). */
export function useRunsOf(experiments: Experiment[]) {
  return useQueries({
    queries: experiments.map((e) => ({
      queryKey: ["runs", e.id],
      queryFn: () =>
        call(
          client.GET("/api/v1/experiments/{experiment_id}/runs", {
            params: { path: { experiment_id: e.id }, query: { limit: 100 } },
          }),
        ),
      refetchInterval: 10000,
    })),
  });
}

export function useRunEvents(runId: number | undefined, live = false) {
  return useQuery({
    queryKey: ["events", runId],
    enabled: runId !== undefined,
    queryFn: () =>
      call(
        client.GET("/api/v1/runs/{run_id}/events", {
          params: { path: { run_id: runId! }, query: { limit: 500 } },
        }),
      ),
    refetchInterval: live ? 2000 : 10000,
  });
}

/** Events of many runs, newest first. The API has no cross-run event list, so this fans out. */
export function useEventsOf(runs: Run[]) {
  const results = useQueries({
    queries: runs.map((r) => ({
      queryKey: ["events", r.id],
      queryFn: () =>
        call(
          client.GET("/api/v1/runs/{run_id}/events", {
            params: { path: { run_id: r.id }, query: { limit: 100 } },
          }),
        ),
      refetchInterval: 10000,
    })),
  });
  const events: (FaultlineEvent & { run: Run })[] = [];
  results.forEach((res, i) => res.data?.items.forEach((e) => events.push({ ...e, run: runs[i]! })));
  events.sort((a, b) => b.ts.localeCompare(a.ts));
  return {
    events,
    loading: results.some((r) => r.isLoading),
    error: results.find((r) => r.error)?.error,
  };
}

export function isLive(run: Run | undefined): boolean {
  return !!run && !TERMINAL_PHASES.has(run.phase);
}

/** Newest run first: runs come from the API in creation order. */
export function newestFirst(runs: Run[]): Run[] {
  return [...runs].sort((a, b) => b.created_at.localeCompare(a.created_at) || b.id - a.id);
}
