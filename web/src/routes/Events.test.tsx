import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { renderPage, stubApi } from "../test/render";
import { Events } from "./Events";

const event = (id: number, type: "Normal" | "Warning", reason: string) => ({
  id,
  run_id: 7,
  chaos_object_id: null,
  ts: `2026-01-01T10:00:0${id}Z`,
  type,
  reason,
  message: "",
  namespace: "shop",
  experiment_id: id === 1 ? null : 3,
  experiment_name: "checkout",
});

describe("Events", () => {
  it("makes one request for every run's events and filters on the server", async () => {
    const requests = stubApi((_, url) => {
      const type = url.searchParams.get("type");
      const items = [event(2, "Warning", "Aborted"), event(1, "Normal", "FaultInjected")].filter(
        (e) => !type || e.type === type,
      );
      return { status: 200, body: { items, total: items.length, limit: 50, offset: 0 } };
    });
    renderPage(<Events />);
    expect(await screen.findByRole("link", { name: "shop/checkout #7" })).toBeTruthy();
    // An event of a deleted experiment's (archived) run is named but not linked.
    expect(screen.getAllByRole("cell", { name: "shop/checkout #7" })).toHaveLength(2);
    expect(screen.getAllByRole("link", { name: "shop/checkout #7" })).toHaveLength(1);
    expect(screen.getByRole("status").textContent).toBe("1–2 of 2");
    expect(requests.map((r) => r.url.pathname)).toEqual(["/api/v1/events"]);
    await userEvent.selectOptions(screen.getByLabelText("Type"), "Warning");
    await waitFor(() => expect(screen.queryByRole("cell", { name: "FaultInjected" })).toBeNull());
    expect(requests[requests.length - 1]!.url.searchParams.get("type")).toBe("Warning");
    expect(requests.every((r) => r.url.pathname === "/api/v1/events")).toBe(true);
  });

  it("pages through older events", async () => {
    const requests = stubApi((_, url) => {
      const offset = Number(url.searchParams.get("offset") ?? 0);
      const items = [event(offset === 0 ? 2 : 1, "Normal", `at-${offset}`)];
      return { status: 200, body: { items, total: 51, limit: 50, offset } };
    });
    renderPage(<Events />);
    await screen.findByRole("cell", { name: "at-0" });
    expect((screen.getByRole("button", { name: "Newer" }) as HTMLButtonElement).disabled).toBe(
      true,
    );
    await userEvent.click(screen.getByRole("button", { name: "Older" }));
    await screen.findByRole("cell", { name: "at-50" });
    expect(requests[requests.length - 1]!.url.searchParams.get("offset")).toBe("50");
    expect(screen.getByRole("status").textContent).toBe("51–51 of 51");
  });
});
