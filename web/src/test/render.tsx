// Test helpers: render a page with the providers the app gives it, and a fetch stub that plays
// the API's part (the component tests check UI logic; the real API is exercised by the e2e run).
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render } from "@testing-library/react";
import type { ReactElement } from "react";
import { MemoryRouter, Route, Routes } from "react-router-dom";
import { vi } from "vitest";

export function renderPage(element: ReactElement, { path = "/", route = "/" } = {}) {
  const queries = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <QueryClientProvider client={queries}>
      <MemoryRouter initialEntries={[route]}>
        <Routes>
          <Route path={path} element={element} />
          <Route path="*" element={<p>navigated elsewhere</p>} />
        </Routes>
      </MemoryRouter>
    </QueryClientProvider>,
  );
}

export interface Answer {
  status: number;
  body?: unknown;
}

/** Stubs fetch: each request is answered by `answer(method, url)`; requests are recorded. */
export function stubApi(answer: (method: string, url: URL, body: unknown) => Answer) {
  const requests: { method: string; url: URL; headers: Headers; body: unknown }[] = [];
  const fetch = vi.fn(async (request: Request) => {
    const url = new URL(request.url);
    const text = request.method === "GET" ? "" : await request.text();
    const body = text ? JSON.parse(text) : undefined;
    requests.push({ method: request.method, url, headers: request.headers, body });
    const { status, body: out } = answer(request.method, url, body);
    return new Response(out === undefined ? null : JSON.stringify(out), {
      status,
      headers: { "Content-Type": "application/json" },
    });
  });
  vi.stubGlobal("fetch", fetch);
  return requests;
}
