// TanStack Query hooks over the API: one place for query keys, so a mutation can invalidate
// exactly what it changed.
import { useQueries, useQuery } from "@tanstack/react-query";
import { call, client, type Experiment, type Run, type RunEvent } from "./api";
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

export interface EventFilters {
  type?: RunEvent["type"];
  namespace?: string;
  limit?: number;
  offset?: number;
}

/** Events of every run, newest first, in one request (GET /events). */
export function useEvents(filters: EventFilters = {}) {
  return useQuery({
    queryKey: ["events", "all", filters],
    queryFn: () => call(client.GET("/api/v1/events", { params: { query: filters } })),
    refetchInterval: 5000,
  });
}

export function isLive(run: Run | undefined): boolean {
  return !!run && !TERMINAL_PHASES.has(run.phase);
}

/** Newest run first: runs come from the API in creation order. */
export function newestFirst(runs: Run[]): Run[] {
  return [...runs].sort((a, b) => b.created_at.localeCompare(a.created_at) || b.id - a.id);
}
