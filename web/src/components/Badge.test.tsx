import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { VerdictBadge } from "./Badge";

describe("VerdictBadge", () => {
  it("shows the verdict when there is one", () => {
    render(<VerdictBadge verdict="Error" phase="Finished" />);
    const badge = screen.getByTestId("verdict");
    expect(badge.textContent).toBe("Error"); // as kubectl shows it
    expect(badge.className).toContain("verdict-error");
  });

  it("shows an aborted run as Aborted, not pending", () => {
    render(<VerdictBadge verdict={null} phase="Aborted" />);
    const badge = screen.getByTestId("verdict");
    expect(badge.textContent).toBe("Aborted");
    expect(badge.className).toContain("verdict-aborted");
  });

  it("shows a run still going as pending", () => {
    render(<VerdictBadge verdict={null} phase="Observing" />);
    expect(screen.getByTestId("verdict").textContent).toBe("pending");
  });
});
