// Test setup. Unmount what each test rendered (Testing Library does it itself only with Vitest
// globals on).
import { cleanup, configure } from "@testing-library/react";
import { afterEach } from "vitest";

// findBy*/waitFor poll until the UI shows the answer; on a busy CI machine jsdom can take seconds,
// so the polling bound is generous (it is a hang guard, not a speed check).
configure({ asyncUtilTimeout: 60_000 });

afterEach(() => {
  cleanup();
  sessionStorage.clear();
});
