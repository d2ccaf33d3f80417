import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { VerdictBadge } from "./Badge";

describe("VerdictBadge", () => {
  it("shows the verdict when there is one", () => {
    render(<VerdictBadge verdict="failed" phase="Finished" />);
    expect(screen.getByTestId("verdict").textContent).toBe("failed");
  });

  it("shows an aborted run as aborted, not pending", () => {
    render(<VerdictBadge verdict={null} phase="Aborted" />);
    const badge = screen.getByTestId("verdict");
    expect(badge.textContent).toBe("aborted");
    expect(badge.className).toContain("verdict-aborted");
  });

  it("shows a run still going as pending", () => {
    render(<VerdictBadge verdict={null} phase="Observing" />);
    expect(screen.getByTestId("verdict").textContent).toBe("pending");
  });
});
