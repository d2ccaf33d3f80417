import { fireEvent, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { renderPage, stubApi } from "../test/render";
import { NewExperiment } from "./NewExperiment";

const yamlBox = () => screen.getByRole("textbox", { name: "YAML" }) as HTMLTextAreaElement;

async function fillValid() {
  await userEvent.type(screen.getByLabelText("Name"), "web-kill");
  await userEvent.type(screen.getByLabelText("Hypothesis title"), "QPS stays up");
}

describe("NewExperiment", () => {
  it("keeps the YAML view and the form in sync both ways", async () => {
    renderPage(<NewExperiment />);
    await userEvent.type(screen.getByLabelText("Name"), "web-kill");
    expect(yamlBox().value).toContain("name: web-kill");
    fireEvent.change(yamlBox(), {
      target: { value: yamlBox().value.replace("web-kill", "from-yaml") },
    });
    expect((screen.getByLabelText("Name") as HTMLInputElement).value).toBe("from-yaml");
    fireEvent.change(yamlBox(), { target: { value: "name: [broken" } });
    expect(screen.getByText(/^YAML:/)).toBeTruthy();
  });

  it("checks before submitting and sends nothing when a field is wrong", async () => {
    const requests = stubApi(() => ({ status: 500 }));
    renderPage(<NewExperiment />);
    await userEvent.type(screen.getByLabelText("Name"), "Bad_Name");
    await userEvent.click(screen.getByRole("button", { name: "Create experiment" }));
    expect(screen.getByLabelText("Name").getAttribute("aria-invalid")).toBe("true");
    expect(screen.getByText(/lower-case letters, digits, '-' and '.'/)).toBeTruthy();
    expect(requests).toHaveLength(0);
  });

  it("shows the API's 422 next to the field it names", async () => {
    const requests = stubApi(() => ({
      status: 422,
      body: {
        detail: [
          {
            loc: ["body", "tolerances", 0, "recoverTo"],
            msg: "must be at most 100",
            type: "x",
          },
        ],
      },
    }));
    renderPage(<NewExperiment />);
    await fillValid();
    await userEvent.click(screen.getByRole("button", { name: "Create experiment" }));
    await waitFor(() =>
      expect(screen.getByLabelText("Value 1").getAttribute("aria-invalid")).toBe("true"),
    );
    expect(screen.getByText("must be at most 100")).toBeTruthy();
    expect(requests.map((r) => r.url.pathname)).toEqual(["/api/v1/hypotheses"]);
  });

  it("creates the hypothesis, then the experiment that uses it", async () => {
    const requests = stubApi((_method, url) =>
      url.pathname === "/api/v1/hypotheses"
        ? { status: 201, body: { id: 42 } }
        : { status: 201, body: { id: 7 } },
    );
    renderPage(<NewExperiment />);
    await fillValid();
    await userEvent.click(screen.getByRole("button", { name: "Create experiment" }));
    await screen.findByText("navigated elsewhere");
    expect(requests.map((r) => `${r.method} ${r.url.pathname}`)).toEqual([
      "POST /api/v1/hypotheses",
      "POST /api/v1/experiments",
    ]);
    expect(requests[1]!.body).toMatchObject({
      name: "web-kill",
      namespace: "default",
      hypothesis_id: 42,
    });
    expect(requests[0]!.body).toMatchObject({ title: "QPS stays up", namespace: "default" });
  });

  it("deletes the new hypothesis when the experiment is refused, and shows why", async () => {
    const requests = stubApi((method, url) => {
      if (method === "POST" && url.pathname === "/api/v1/hypotheses")
        return { status: 201, body: { id: 5 } };
      if (method === "POST")
        return { status: 409, body: { detail: "experiment default/web-kill already exists" } };
      return { status: 204 };
    });
    renderPage(<NewExperiment />);
    await fillValid();
    await userEvent.click(screen.getByRole("button", { name: "Create experiment" }));
    await waitFor(() =>
      expect(screen.getByLabelText("Name").getAttribute("aria-invalid")).toBe("true"),
    );
    expect(screen.getAllByText(/already exists/).length).toBeGreaterThan(0);
    expect(requests.map((r) => `${r.method} ${r.url.pathname}`)).toContain(
      "DELETE /api/v1/hypotheses/5",
    );
  });
});
