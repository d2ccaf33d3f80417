// The one typed gateway to the dashboard API: openapi-fetch over the generated schema, the
// bearer token from the login page, and errors turned into ApiError so every page can show the
// API's own message (and 422 field errors next to their fields).
import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "../client/schema";

export type Schemas = components["schemas"];
export type Experiment = Schemas["ExperimentPublic"];
export type Hypothesis = Schemas["HypothesisPublic"];
export type Run = Schemas["RunPublic"];
export type Observation = Schemas["ObservationPublic"];
export type FaultlineEvent = Schemas["EventPublic"];
export type RunEvent = Schemas["RunEventPublic"];
export type ChaosObject = Schemas["ChaosObjectPublic"];
export type Schedule = Schemas["SchedulePublic"];
export type WhoAmI = Schemas["WhoAmI"];

export interface FieldError {
  loc: (string | number)[];
  msg: string;
}

/** An answer other than 2xx: `detail` is the API's message, `fields` its 422 field errors. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly fields: FieldError[] = [],
  ) {
    super(`${status}: ${detail}`);
    this.name = "ApiError";
  }
}

export function toApiError(status: number, body: unknown): ApiError {
  const detail = (body as { detail?: unknown } | undefined)?.detail;
  if (Array.isArray(detail)) {
    const fields = detail.map((d: { loc?: unknown; msg?: unknown }) => ({
      loc: Array.isArray(d.loc) ? (d.loc as (string | number)[]) : [],
      msg: String(d.msg ?? "invalid"),
    }));
    const summary = fields.map((f) => `${f.loc.slice(1).join(".")}: ${f.msg}`).join("; ");
    return new ApiError(status, summary || "invalid request", fields);
  }
  if (typeof detail === "string") return new ApiError(status, detail);
  return new ApiError(status, status >= 500 ? "the dashboard API failed" : "request failed");
}

const TOKEN_KEY = "faultline.token";
let token: string | null = sessionStorage.getItem(TOKEN_KEY);

export function getToken(): string | null {
  return token;
}

export function setToken(value: string | null): void {
  token = value;
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

const auth: Middleware = {
  onRequest({ request }) {
    if (token && !request.headers.has("Authorization")) {
      request.headers.set("Authorization", `Bearer ${token}`);
    }
    return request;
  },
};

// fetch is looked up per request (not captured once), so component tests can stub it.
export const client = createClient<paths>({
  baseUrl: window.location.origin,
  fetch: (request) => globalThis.fetch(request),
});
client.use(auth);

/** Unwraps an openapi-fetch answer: the data, or an ApiError carrying the API's message. */
export async function call<T>(
  pending: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  const { data, error, response } = await pending;
  if (!response.ok) throw toApiError(response.status, error);
  return data as T;
}
