import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { renderPage, stubApi } from "../test/render";
import { Experiments } from "./Experiments";

const experiment = {
  id: 1,
  namespace: "shop",
  name: "checkout",
  description: "",
  hypothesis_id: null,
  spec: {},
  status: "finished",
  verdict: "Passed",
  created_at: "2026-01-01T00:00:00Z",
  updated_at: "2026-01-01T00:00:00Z",
};

describe("Experiments", () => {
  it("passes the filters to the API and lists what comes back", async () => {
    const requests = stubApi(() => ({
      status: 200,
      body: { items: [experiment], total: 1, limit: 100, offset: 0 },
    }));
    renderPage(<Experiments />, { path: "/experiments", route: "/experiments?namespace=shop" });
    expect(await screen.findByRole("link", { name: "checkout" })).toBeTruthy();
    expect(screen.getByTestId("verdict").textContent).toBe("Passed");
    await userEvent.selectOptions(screen.getByLabelText("Status"), "finished");
    await userEvent.selectOptions(screen.getByLabelText("Verdict"), "Passed");
    await waitFor(() => {
      const q = requests[requests.length - 1]!.url.searchParams;
      expect([q.get("status"), q.get("verdict"), q.get("namespace")]).toEqual([
        "finished",
        "Passed",
        "shop",
      ]);
    });
    expect(requests[0]!.url.searchParams.get("status")).toBeNull();
  });

  it("shows the API's error", async () => {
    stubApi(() => ({ status: 401, body: { detail: "no bearer token: pass it" } }));
    renderPage(<Experiments />, { path: "/experiments", route: "/experiments" });
    expect((await screen.findByRole("alert")).textContent).toContain(
      "401: no bearer token: pass it",
    );
  });
});
