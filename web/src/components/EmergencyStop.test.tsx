import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { renderPage, stubApi } from "../test/render";
import { EmergencyStopBanner, EmergencyStopButton, type EmergencyStopState } from "./EmergencyStop";

const IDLE: EmergencyStopState = {
  engaged: false,
  engagedBy: "",
  engagedAt: null,
  reason: "",
  liftedBy: "",
  liftedAt: null,
  available: true,
  mayChange: true,
  namespace: "faultline",
};
const ENGAGED: EmergencyStopState = {
  ...IDLE,
  engaged: true,
  engagedBy: "alice",
  engagedAt: "2026-12-05T08:00:00Z",
  reason: "checkout is down",
};

function page() {
  return (
    <>
      <EmergencyStopButton />
      <EmergencyStopBanner />
    </>
  );
}

describe("EmergencyStop", () => {
  it("engages with a reason after the user confirms, then shows the banner", async () => {
    let state = IDLE;
    const requests = stubApi((method, _url, body) => {
      if (method === "POST") {
        state = { ...ENGAGED, reason: (body as { reason: string }).reason };
        return { status: 202, body: state };
      }
      return { status: 200, body: state };
    });
    renderPage(page());
    await userEvent.click(await screen.findByRole("button", { name: "Emergency stop" }));
    await userEvent.type(screen.getByLabelText("Reason (shown to everyone)"), "checkout is down");
    await userEvent.click(screen.getByRole("button", { name: "Stop every fault" }));
    const banner = await screen.findByRole("alert");
    expect(banner.textContent).toContain("Emergency stop engaged by alice");
    expect(banner.textContent).toContain("checkout is down");
    expect(requests.find((r) => r.method === "POST")?.body).toEqual({ reason: "checkout is down" });
    expect(screen.queryByRole("button", { name: "Emergency stop" })).toBeNull();
  });

  it("lifts from the banner for a user allowed to change it", async () => {
    let state = ENGAGED;
    const requests = stubApi((method) => {
      if (method === "DELETE") state = { ...ENGAGED, engaged: false, liftedBy: "alice" };
      return { status: 200, body: state };
    });
    renderPage(page());
    await screen.findByRole("alert");
    await userEvent.click(screen.getByRole("button", { name: "Lift" }));
    await userEvent.click(screen.getByRole("button", { name: "Yes, lift" }));
    await waitFor(() => expect(screen.queryByRole("alert")).toBeNull());
    expect(requests.map((r) => r.method)).toContain("DELETE");
  });

  it("shows the banner without buttons to a user who may not change it", async () => {
    stubApi(() => ({ status: 200, body: { ...ENGAGED, mayChange: false } }));
    renderPage(page());
    expect((await screen.findByRole("alert")).textContent).toContain("checkout is down");
    expect(screen.queryByRole("button")).toBeNull();
  });
});
