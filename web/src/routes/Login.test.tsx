import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it } from "vitest";
import { getToken, setToken } from "../lib/api";
import { renderPage, stubApi } from "../test/render";
import { Login } from "./Login";

afterEach(() => setToken(null));

describe("Login", () => {
  it("shows the API's reason for a 401 and how to create a token", async () => {
    const requests = stubApi(() => ({
      status: 401,
      body: { detail: "the bearer token is not a token of this dashboard" },
    }));
    renderPage(<Login />, { path: "/login", route: "/login" });
    await userEvent.type(screen.getByLabelText("API token"), "wrong{Enter}");
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain("The token was not accepted (401)");
    expect(alert.textContent).toContain("the bearer token is not a token of this dashboard");
    expect(screen.getByText("faultline dashboard reset-token")).toBeTruthy();
    expect(requests[0]!.headers.get("Authorization")).toBe("Bearer wrong");
    expect(getToken()).toBeNull();
  });

  it("says a 403 token lacks permission", async () => {
    stubApi(() => ({ status: 403, body: { detail: "needs list experiments" } }));
    renderPage(<Login />, { path: "/login", route: "/login" });
    await userEvent.type(screen.getByLabelText("API token"), "viewer{Enter}");
    expect((await screen.findByRole("alert")).textContent).toBe(
      "The token is valid but lacks permission (403)needs list experiments",
    );
  });

  it("keeps a working token and moves on", async () => {
    stubApi(() => ({
      status: 200,
      body: { name: "admin", role: "admin", groups: [], mode: "local" },
    }));
    renderPage(<Login />, { path: "/login", route: "/login" });
    await userEvent.type(screen.getByLabelText("API token"), "  good  {Enter}");
    expect(await screen.findByText("navigated elsewhere")).toBeTruthy();
    expect(getToken()).toBe("good");
  });
});
